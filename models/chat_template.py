"""Chat templates rendered as transformers renders them (its utils/chat_template_utils.py).

A prompt must be byte-identical to the one the model was trained with, so the environment is the same: an
immutable sandbox (templates come from the Hub and are untrusted), trim_blocks + lstrip_blocks, loop
controls, the `{% generation %}` tag, `raise_exception`, `strftime_now`, a `tojson` that does not HTML-escape,
and safe `dict` / `namespace` helpers. Inputs are rebuilt from plain types and None-valued keys dropped, as
transformers does before rendering. A template's failure is a ModelError (it is part of the checkpoint).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import jinja2
import jinja2.ext

from .errors import GenerationError, ModelError

from .template_limits import LimitedSandbox, render_limited

# For checkpoints without a template (base models): plain role-prefixed turns, ending in "Assistant:" so that
# the model continues with the answer.
FALLBACK_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ message['role'] | capitalize }}: {{ message['content'] | trim }}\n\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}"
)

# Names a message's reasoning is passed under; transformers fills all of them from whichever is given.
_REASONING_FIELDS = ("reasoning_content", "thinking", "reasoning")


class _GenerationTag(jinja2.ext.Extension):
    """`{% generation %}...{% endgeneration %}` marks assistant text for training masks; here it renders its body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        # A call block, as in transformers, so that the body gets its own scope.
        return jinja2.nodes.CallBlock(self.call_method("_body"), [], [], body).set_lineno(lineno)

    def _body(self, caller):
        return caller()


class _TemplateDict:
    """`dict(...)` for templates without exposing the dict type itself (no attribute tricks)."""

    def __call__(self, *args, **kwargs):
        return dict(*args, **kwargs)

    def fromkeys(self, *args, **kwargs):
        return dict.fromkeys(*args, **kwargs)


class _TemplateNamespace(jinja2.utils.Namespace):
    """jinja2's namespace, refusing underscore names that could reach interpreter internals."""

    def __init__(*args, **kwargs):  # noqa: N805 - jinja2's own signature trick, so `namespace(self=1)` works
        self, args = args[0], args[1:]
        attrs = dict(*args, **kwargs)
        for name in attrs:
            _TemplateNamespace._check(name)
        jinja2.utils.Namespace.__init__(self, attrs)

    def __setitem__(self, name, value):
        _TemplateNamespace._check(name)
        jinja2.utils.Namespace.__setitem__(self, name, value)

    @staticmethod
    def _check(name):
        if isinstance(name, str) and name.startswith("_"):
            raise jinja2.exceptions.SecurityError(f"a chat template cannot set the namespace attribute {name!r}")


def _raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def _tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # jinja2's own tojson HTML-escapes (<, >, &, '), which would change the prompt.
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _strftime_now(fmt):
    return datetime.now().strftime(fmt)


@functools.lru_cache(maxsize=16)
def compile_template(source: str) -> jinja2.Template:
    """The template compiled in transformers' environment; a syntax error is a ModelError."""
    env = LimitedSandbox(  # transformers' ImmutableSandboxedEnvironment, with size limits (template_limits)
        trim_blocks=True, lstrip_blocks=True, extensions=[_GenerationTag, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = _tojson
    env.globals.update(
        raise_exception=_raise_exception, strftime_now=_strftime_now, dict=_TemplateDict(), namespace=_TemplateNamespace
    )
    try:
        return env.from_string(source)
    except jinja2.TemplateError as exc:
        raise ModelError(str(exc)) from exc


def _plain(value: Any) -> Any:
    """Template inputs rebuilt from plain JSON-like types, as transformers does: the sandbox cannot tell which
    methods of rich objects are dangerous. Anything else becomes an inert "<TypeName>" placeholder."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, Mapping):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return f"<{type(value).__name__}>"


def render_chat(template, messages, *, add_generation_prompt, tools, documents, variables) -> str:
    """Render `messages` with a compiled template; `variables` are the special tokens and extra kwargs."""
    if not messages:
        raise GenerationError("cannot apply a chat template to an empty conversation")
    chat = []
    for message in messages:
        if not isinstance(message, Mapping):
            raise GenerationError(f"a chat message must be a mapping with 'role' and 'content', not {message!r}")
        # Keys whose value is None are dropped: templates test for a key's presence, not for None.
        message = _plain({k: v for k, v in message.items() if v is not None})
        reasoning = next((message[k] for k in _REASONING_FIELDS if message.get(k) is not None), None)
        if reasoning is not None:
            message = {"thinking": reasoning, **message, "reasoning_content": reasoning}
        chat.append(message)
    try:
        return render_limited(
            template,
            messages=chat,
            tools=_plain(tools),
            documents=_plain(documents),
            add_generation_prompt=add_generation_prompt,
            **_plain(variables),
        )
    except Exception as exc:  # raise_exception, or any failure of the checkpoint's (untrusted) template
        raise ModelError(f"the chat template cannot render this conversation: {exc}") from exc
