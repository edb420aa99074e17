from shopfront.auth import check_token, issue_token


def test_token_round_trip():
    assert check_token(issue_token(7, now=0), now=10) == 7


def test_expired_token_is_refused():
    assert check_token(issue_token(7, now=0), now=10_000) is None
