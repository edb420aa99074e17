"""Haystacks: deterministic, the right size, needles where the depth says, nothing needle-like in the filler."""

import itertools
import random
import re

import pytest

from ssmdoc.eval import EvalOptions
from ssmdoc.eval.haystack import Needle, build_haystack, draw_needles, filler_units, text_units
from ssmdoc.eval.runner import Case, first_code, make_haystack
from ssmdoc.models.tokenizer import Tokenizer


@pytest.fixture(scope="module")
def tok(random_hybrid):
    return Tokenizer.from_dir(random_hybrid)


def count(tok):
    return lambda text: len(tok.encode(text, parse_special=False))


def test_filler_is_deterministic_and_has_no_digits():
    a = list(itertools.islice(filler_units(7), 200))
    assert a == list(itertools.islice(filler_units(7), 200))
    assert a != list(itertools.islice(filler_units(8), 200))
    text = "".join(a)
    assert not re.search(r"\d", text) and "access code" not in text
    assert text.count("\n") >= 200 // 6  # paragraphs of 3-6 sentences


@pytest.mark.parametrize("n", [64, 512, 4096])
def test_haystack_length_is_close_to_the_request_and_the_units_add_up(tok, n):
    hay = build_haystack(filler_units(1), n, [Needle("Ada", "123456", 0.5)], count(tok))
    assert n <= hay.tokens <= n + 20  # whole sentences: may pass the target by less than one
    assert len(tok.encode(hay.text, parse_special=False)) == hay.tokens  # units tokenize as the whole text


@pytest.mark.parametrize("depth", [0.0, 0.25, 0.5, 0.75, 1.0])
def test_needle_sits_at_its_depth(tok, depth):
    hay = build_haystack(filler_units(3), 1000, [Needle("Ada", "123456", depth)], count(tok))
    where = hay.text.index("The access code for Ada is 123456.")
    assert where / len(hay.text) == pytest.approx(depth, abs=0.03)
    if depth == 0.0:
        assert where == 0
    if depth == 1.0:
        assert hay.text.endswith("123456.")


def test_several_needles_have_distinct_names_and_the_first_is_asked():
    needles = draw_needles(random.Random(0), 0.5, 5)
    assert len({n.name for n in needles}) == 5 and needles[0].depth == 0.5
    assert all(re.fullmatch(r"\d{6}", n.code) for n in needles)


def test_case_haystacks_do_not_depend_on_the_rest_of_the_run(tok):
    small = EvalOptions(lengths=[256], depths=[0.5], trials=1, seed=3)
    big = EvalOptions(lengths=[128, 256, 1024], depths=[0, 0.5], trials=4, seed=3)
    case = Case(256, 0.5, 0)
    assert make_haystack(tok, small, case) == make_haystack(tok, big, case)
    assert make_haystack(tok, small, case) != make_haystack(tok, small, Case(256, 0.5, 1))


def test_user_text_haystack_keeps_the_users_lines_and_adds_needle_lines(tok):
    text = "".join(f"Clause {i}: the tenant keeps the garden tidy.\n" for i in range(30))
    options = EvalOptions(lengths=[300], depths=[0.5], trials=1, needles=2, haystack_text=text)
    hay = make_haystack(tok, options, Case(300, 0.5, 0))
    lines = hay.text.splitlines()
    needle_lines = [ln for ln in lines if ln.startswith("The access code for ")]
    assert len(needle_lines) == 2 and all(ln in text or ln.startswith("Clause") for ln in lines if ln not in needle_lines)
    assert set(text_units(hay.text)) - set(text_units(text)) == {ln + "\n" for ln in needle_lines}


@pytest.mark.parametrize("answer, code", [("123456", "123456"), ("The code is 123456.", "123456"),
                                          ("1234567", None), ("12345", None), ("no idea", None),
                                          ("654321 or 123456", "654321")])
def test_first_code(answer, code):
    assert first_code(answer) == code
