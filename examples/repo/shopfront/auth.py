"""Authentication: password hashing, session tokens, and the require_user guard."""

import hashlib
import hmac
import os
import time

SESSION_SECONDS = 3600
SECRET = os.environ.get("SHOPFRONT_SECRET", "dev-secret").encode()


def hash_password(password: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 200_000)


def issue_token(user_id: int, now: float | None = None) -> str:
    expires = int((now or time.time()) + SESSION_SECONDS)
    payload = f"{user_id}:{expires}"
    signature = hmac.new(SECRET, payload.encode(), "sha256").hexdigest()
    return f"{payload}:{signature}"


def check_token(token: str, now: float | None = None) -> int | None:
    """The user id of a valid, unexpired token; None otherwise."""
    try:
        user_id, expires, signature = token.split(":")
    except ValueError:
        return None
    expected = hmac.new(SECRET, f"{user_id}:{expires}".encode(), "sha256").hexdigest()
    if not hmac.compare_digest(signature, expected) or int(expires) < (now or time.time()):
        return None
    return int(user_id)


class Unauthorized(Exception):
    pass


def require_user(request):
    user_id = check_token(request.headers.get("Authorization", "").removeprefix("Bearer "))
    if user_id is None:
        raise Unauthorized("missing or expired session token")
    return request.users.get(user_id)
