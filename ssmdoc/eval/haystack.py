"""Haystacks with needles: the text `ssmdoc eval` reads, and the text the recall checkpoints were trained on.

A haystack is a sequence of text units (filler sentences, or the lines of the user's own documents) with
needles ("The access code for <name> is <6 digits>.") inserted between units at chosen depths. Lengths are
counted in the model's tokens, unit by unit, so a haystack of n tokens holds close to n (the exact count is
what the pipeline reports having read).

Everything is deterministic: the same seed gives the same text, on any machine and Python version
(`random.Random` with an integer seed is stable across versions for `randrange`/`choice`/`shuffle`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

# Names that are one word each; the needles' keys. Training and evaluation draw from the same list.
NAMES = (
    "Ada", "Bruno", "Clara", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kira", "Liam",
    "Maya", "Nils", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wilma", "Xavier",
    "Yara", "Zane", "Amir", "Bianca", "Cyrus", "Dora", "Emil", "Fiona", "Gustav", "Hana", "Igor", "Julia",
    "Karl", "Lena", "Marco", "Nora", "Oscar", "Petra", "Rafael", "Sofia", "Tomas", "Ursula", "Viktor", "Wanda",
)

_SUBJECTS = (
    "the old farmer", "a quiet river", "the red fox", "our neighbour", "the small boat", "a tall tower",
    "the baker", "a grey cloud", "the young teacher", "the iron bridge", "a busy market", "the night train",
    "the garden wall", "a lost letter", "the village clock", "a green lamp", "the museum guard", "the north wind",
)
_VERBS = (
    "waited near", "walked past", "looked at", "stood beside", "drifted over", "turned toward", "slept under",
    "moved along", "rested by", "circled around", "leaned against", "came back to",
)
_OBJECTS = (
    "the stone well", "an empty field", "the wooden gate", "a narrow road", "the frozen lake", "the harbour",
    "a dusty shelf", "the broken fence", "a long corridor", "the morning market", "the quiet square",
    "a pile of books", "the blue door", "the hill", "a row of trees", "the station",
)
_TAILS = (
    "", "", "", " in the evening", " before noon", " for a while", " again", " without a sound",
    " after the rain", " as usual", " once more", " all day",
)


def filler_sentence(rng: random.Random) -> str:
    """One sentence of neutral filler: nothing in it looks like a needle (no digits, no 'access code')."""
    text = f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}{rng.choice(_TAILS)}."
    return text[0].upper() + text[1:]


def filler_units(seed: int) -> Iterator[str]:
    """Endless filler text as units that concatenate into paragraphs: a unit is its separator (" ", or a
    newline that starts a new line) followed by a sentence, so the tokens of the units add up to the tokens
    of the text (byte-level BPE attaches a leading space to the word after it)."""
    rng = random.Random(seed)
    first, in_line, line_len = True, 0, rng.randint(3, 6)
    while True:
        sep = "" if first else (" " if in_line else "\n")
        first = False
        yield sep + filler_sentence(rng)
        in_line += 1
        if in_line >= line_len:
            in_line, line_len = 0, rng.randint(3, 6)


def text_units(text: str) -> list[str]:
    """The user's own text as units: its lines, each ending with its newline."""
    return [line for line in text.splitlines(keepends=True) if line]


def random_code(rng: random.Random) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(6))


def question_for(name: str) -> str:
    return f"What is the access code for {name}?"


@dataclass(frozen=True)
class Needle:
    name: str
    code: str  # six digits
    depth: float  # 0 (start of the haystack) .. 1 (end)

    @property
    def sentence(self) -> str:
        return f"The access code for {self.name} is {self.code}."


@dataclass(frozen=True)
class Haystack:
    text: str
    needles: tuple[Needle, ...]  # needles[0] is the one asked about
    tokens: int  # as counted unit by unit with the tokenizer (the pipeline's own count may differ by a few)

    @property
    def asked(self) -> Needle:
        return self.needles[0]

    @property
    def question(self) -> str:
        return question_for(self.asked.name)


def draw_needles(rng: random.Random, depth: float, count: int) -> list[Needle]:
    """`count` needles with distinct names: the first (asked) at `depth`, the others at random depths."""
    if not 1 <= count <= len(NAMES):
        raise ValueError(f"needles must be between 1 and {len(NAMES)}")
    names = rng.sample(NAMES, count)
    return [Needle(n, random_code(rng), depth if i == 0 else rng.random()) for i, n in enumerate(names)]


def build_haystack(
    units: Iterator[str],
    n_tokens: int,
    needles: Sequence[Needle],
    count_tokens: Callable[[str], int],
    line_units: bool = False,
) -> Haystack:
    """Fill `n_tokens` tokens (needles included; the last unit may go past by a few) with units from `units`,
    needles placed by depth.

    Each needle goes at the unit boundary where the filler tokens before it first reach depth x filler
    tokens: depth 0 is before the first unit, depth 1 after the last. With `line_units` (the user's lines)
    a needle is a line of its own; otherwise it is a sentence joined like the filler's (" " + sentence).
    """
    needle_units = [(nd, (nd.sentence + "\n") if line_units else (" " + nd.sentence)) for nd in needles]
    budget = max(0, n_tokens - sum(count_tokens(u) for _, u in needle_units))
    body: list[tuple[str, int]] = []
    total = 0
    for unit in units:
        if total >= budget:
            break
        n = count_tokens(unit)
        body.append((unit, n))
        total += n
    # Where each needle goes: the index of the body unit it precedes (len(body) = at the end).
    cuts: list[tuple[int, int]] = []  # (insert before unit i, needle order) - stable for equal positions
    for order, (nd, _) in enumerate(needle_units):
        target, seen, index = nd.depth * total, 0, len(body)
        for i, (_, n) in enumerate(body):
            if seen >= target:
                index = i
                break
            seen += n
        cuts.append((index, order))
    cuts.sort()
    pieces: list[str] = []
    k = 0
    for i, (unit, _) in enumerate(body + [("", 0)]):
        while k < len(cuts) and cuts[k][0] == i:
            text = needle_units[cuts[k][1]][1]
            if not pieces and not line_units:
                text = text.lstrip(" ")  # the very first sentence has no separator before it
            pieces.append(text)
            k += 1
        if unit:
            if not line_units and pieces and i == 0:
                unit = " " + unit  # a needle came first: the first filler sentence now follows it
            pieces.append(unit)
    text = "".join(pieces)
    return Haystack(text, tuple(needles), sum(count_tokens(p) for p in pieces))
