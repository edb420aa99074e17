"""A chat-template sandbox with limits on what a template can build, not only on what it can reach.

transformers' ImmutableSandboxedEnvironment stops a template from touching interpreter internals, but
`{{ 'x' * 10**10 }}`, `{% for i in range(10**9) %}`, `{{ 9**9**9 }}`, a string doubled with `~` in a loop or
`'x'|center(10**10)` still exhaust memory or time: a tokenizer_config.json from the Hub is untrusted input.
Here, on top of that sandbox:
- `range()` yields at most MAX_RANGE items (jinja2's own limit is 100,000);
- every `*`, `**`, `+`, `%` and `~` is checked before it runs: no string or list longer than MAX_CHARS, no
  exponent that makes a number longer than MAX_POWER_BITS bits;
- every filter, function and method called gets no integer argument above MAX_CHARS (a width, a count), and
  its result, when sized, is no longer than MAX_CHARS;
- the rendered output stops at MAX_OUTPUT chars.
Anything over a limit raises jinja2's SecurityError, which the caller turns into a ModelError.
A real template (messages, tools, a few loops) stays orders of magnitude below every limit.
"""

from __future__ import annotations

import operator

from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_RANGE = 10_000
MAX_CHARS = 1 << 22  # 4 Mi characters (or items) in any one value a template builds
MAX_OUTPUT = 1 << 22
MAX_POWER_BITS = 4096


def _size(value) -> int | None:
    return len(value) if isinstance(value, (str, bytes, list, tuple, dict)) else None


def _check_result(value):
    size = _size(value)
    if size is not None and size > MAX_CHARS:
        raise SecurityError(f"a chat template built a value of {size:,} items, over the limit of {MAX_CHARS:,}")
    return value


def _check_args(args, kwargs) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_CHARS:
            raise SecurityError(f"a chat template passed {value:,} where at most {MAX_CHARS:,} is allowed")


def _repeat_size(a, b) -> int | None:
    for seq, n in ((a, b), (b, a)):
        if _size(seq) is not None and isinstance(n, int):
            return _size(seq) * max(n, 0)
    return None


def _checked_binop(op: str, left, right):
    if op == "*":
        size = _repeat_size(left, right)
        if size is not None and size > MAX_CHARS:
            raise SecurityError(f"a chat template repeats a value to {size:,} items, over {MAX_CHARS:,}")
    elif op == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            if right * max(abs(left).bit_length(), 1) > MAX_POWER_BITS:
                raise SecurityError("a chat template computes a power too large")
    elif op == "+":
        a, b = _size(left), _size(right)
        if a is not None and b is not None and a + b > MAX_CHARS:
            raise SecurityError(f"a chat template builds a value of {a + b:,} items, over {MAX_CHARS:,}")
    elif op == "%" and isinstance(left, str):
        _check_args(right if isinstance(right, tuple) else (right,), {})
    return _check_result(_OPS[op](left, right))


_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
        "//": operator.floordiv, "**": operator.pow, "%": operator.mod}


def _checked_concat(*values) -> str:
    total = 0
    parts = []
    for value in values:
        text = str(value)
        total += len(text)
        if total > MAX_CHARS:
            raise SecurityError(f"a chat template joins strings past {MAX_CHARS:,} characters")
        parts.append(text)
    return "".join(parts)


class _LimitedCodeGenerator(CodeGenerator):
    def visit_Concat(self, node, frame) -> None:  # `a ~ b`: through the length check
        self.write("environment.checked_concat(")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(")")


class LimitedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**", "+", "%"])
    code_generator_class = _LimitedCodeGenerator

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.checked_concat = _checked_concat
        self.globals["range"] = _limited_range
        self.filters = {name: _limited(f) for name, f in self.filters.items()}

    def call_binop(self, context, operator, left, right):
        return _checked_binop(operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - jinja2's signature
        _check_args(args, kwargs)
        return _check_result(super().call(__context, __obj, *args, **kwargs))


def _limited(function):
    def wrapper(*args, **kwargs):
        _check_args(args[1:], kwargs)  # args[0] is the value (or the context/environment) filtered
        return _check_result(function(*args, **kwargs))

    for attr in ("jinja_pass_arg",):  # @pass_context / @pass_environment markers must survive the wrap
        if hasattr(function, attr):
            setattr(wrapper, attr, getattr(function, attr))
    return wrapper


def _limited_range(*args):
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise SecurityError(f"a chat template asks for a range of {len(rng):,} items, over {MAX_RANGE:,}")
    return rng


def render_limited(template, **variables) -> str:
    """Render with the output capped at MAX_OUTPUT characters."""
    parts, total = [], 0
    for piece in template.generate(**variables):
        total += len(piece)
        if total > MAX_OUTPUT:
            raise SecurityError(f"a chat template rendered more than {MAX_OUTPUT:,} characters")
        parts.append(piece)
    return "".join(parts)
