"""Tokenizer and chat template of a Hugging Face checkpoint, without transformers.

`Tokenizer.from_dir(path)` reads the files a checkpoint ships:
- `tokenizer.json` (required) through the `tokenizers` library: encoding and decoding;
- `tokenizer_config.json`: the named special tokens and the chat template (tokens may be given as strings or
  as `{"content": ...}` dicts); a legacy `special_tokens_map.json` overrides them, as in transformers 5; a
  `chat_template.jinja` file overrides the config's template, as in transformers 5;
- `generation_config.json` and `config.json`: further end-of-sequence ids (a checkpoint may list several).

Chat templates are rendered by `ssmdoc.models.chat_template`, exactly as transformers renders them. Decoding never
applies `clean_up_tokenization_spaces`: that rule (" ." -> ".") corrupts code and would make the streamed text
differ from the full decode.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .checkpoint import read_json as _read_json
from .errors import ModelError

from .chat_template import FALLBACK_CHAT_TEMPLATE, compile_template, render_chat

# The named special tokens transformers passes to a chat template (SPECIAL_TOKENS_ATTRIBUTES).
SPECIAL_TOKEN_NAMES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


def _token_content(value: Any) -> str | None:
    """A special token as stored by HF: a string, or an AddedToken dict {"content": ..., "lstrip": ...}."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("content"), str):
        return value["content"]
    return None


def _as_id_list(value: Any) -> list[int]:
    """`eos_token_id` in config.json / generation_config.json: an int, a list of ints, or null."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, int) and not isinstance(v, bool)]
    return []


def _chat_template(directory: Path, config: dict) -> str | None:
    """The default chat template, looked up where transformers 5 looks (the .jinja file wins)."""
    jinja_file = directory / "chat_template.jinja"
    if jinja_file.is_file():
        try:
            return jinja_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelError(f"cannot read {jinja_file}: {exc}") from exc
    template = config.get("chat_template")
    if template is None:  # processors' legacy location
        template = (_read_json(directory / "chat_template.json") or {}).get("chat_template")
    if isinstance(template, list):  # named templates: [{"name": "default", "template": "..."}, ...]
        named = {t.get("name"): t.get("template") for t in template if isinstance(t, Mapping)}
        template = named.get("default")
    return template if isinstance(template, str) else None

class Tokenizer:
    """Text <-> token ids, special token ids and chat formatting for one checkpoint."""

    def __init__(
        self,
        backend,
        special_tokens: dict[str, str],
        chat_template: str | None,
        extra_eos_ids: Iterable[int] = (),
        fallback_bos_id: int | None = None,
        name: str = "tokenizer",
    ):
        self._tk = backend  # a tokenizers.Tokenizer
        self.name = name
        # Named special tokens (bos_token, eos_token, ... and model-specific names) -> their text.
        self.special_tokens = dict(special_tokens)
        self.has_chat_template = chat_template is not None
        self.chat_template = chat_template if chat_template is not None else FALLBACK_CHAT_TEMPLATE
        try:
            self._template = compile_template(self.chat_template)
        except ModelError as exc:
            raise ModelError(f"the chat template of {name} is invalid: {exc}") from exc

        bos = self.special_tokens.get("bos_token")
        self.bos_token_id: int | None = self.token_to_id(bos) if bos else None
        if self.bos_token_id is None:
            self.bos_token_id = fallback_bos_id
        pad = self.special_tokens.get("pad_token")
        self.pad_token_id: int | None = self.token_to_id(pad) if pad else None
        eos = self.special_tokens.get("eos_token")
        eos_ids = list(extra_eos_ids) + ([self.token_to_id(eos)] if eos else [])
        # All of them, in order of first mention, once each; a token missing from the vocabulary is dropped.
        self.eos_token_ids: list[int] = list(dict.fromkeys(i for i in eos_ids if i is not None))

    @classmethod
    def from_dir(cls, path: str | Path) -> Tokenizer:
        """Load the tokenizer files of a checkpoint directory (see the module docstring)."""
        from tokenizers import Tokenizer as Backend

        directory = Path(path)
        tokenizer_file = directory / "tokenizer.json"
        if not tokenizer_file.is_file():
            raise ModelError(
                f"no tokenizer.json in {directory}",
                hint="ssmdoc reads fast tokenizers only (tokenizer.json); slow sentencepiece-only checkpoints are "
                "not supported",
            )
        try:
            backend = Backend.from_file(str(tokenizer_file))
        except Exception as exc:  # the Rust library raises plain Exceptions for any parse error
            raise ModelError(f"cannot read {tokenizer_file}: {exc}") from exc

        config = _read_json(directory / "tokenizer_config.json") or {}
        # transformers 5 reads the legacy special_tokens_map.json only when the config has no
        # added_tokens_decoder, and then lets it override the config's values.
        special_map = {}
        if "added_tokens_decoder" not in config:
            special_map = _read_json(directory / "special_tokens_map.json") or {}
        special: dict[str, str] = {}
        for key in SPECIAL_TOKEN_NAMES:
            content = _token_content(special_map[key] if key in special_map else config.get(key))
            if content is not None:
                special[key] = content
        extra = config.get("extra_special_tokens")
        if isinstance(extra, Mapping):  # model-specific names (image_token, ...) become template variables too
            special.update({k: c for k, v in extra.items() if (c := _token_content(v)) is not None})

        # generate() in transformers stops on generation_config's eos ids (config.json's when absent); the
        # tokenizer's eos is added as well so a base checkpoint without a generation config still stops.
        generation = _read_json(directory / "generation_config.json") or {}
        model_config = _read_json(directory / "config.json") or {}
        eos_ids = _as_id_list(generation.get("eos_token_id")) + _as_id_list(model_config.get("eos_token_id"))
        bos_ids = _as_id_list(generation.get("bos_token_id")) or _as_id_list(model_config.get("bos_token_id"))
        return cls(
            backend,
            special,
            _chat_template(directory, config),
            extra_eos_ids=eos_ids,
            fallback_bos_id=bos_ids[0] if bos_ids else None,
            name=str(directory),
        )

    # --- token ids ------------------------------------------------------------------------------------------

    @property
    def vocab_size(self) -> int:
        """Number of ids the tokenizer can produce, added tokens included."""
        return self._tk.get_vocab_size(with_added_tokens=True)

    def token_to_id(self, token: str) -> int | None:
        return self._tk.token_to_id(token)

    def id_to_token(self, token_id: int) -> str | None:
        return self._tk.id_to_token(int(token_id))

    def encode(self, text: str, parse_special: bool = True) -> list[int]:
        """Token ids of `text`, without bos/eos or any other special token added by a post-processor.

        Special tokens written in the text (e.g. a rendered chat template's `<|user|>`) are recognised as such,
        unless `parse_special` is False: then they are read as plain text (a document that mentions `<|eos|>`
        must not end the user's turn).
        """
        if parse_special:
            return self._tk.encode(text, add_special_tokens=False).ids
        self._tk.encode_special_tokens = True
        try:
            return self._tk.encode(text, add_special_tokens=False).ids
        finally:
            self._tk.encode_special_tokens = False

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        return self._tk.decode([int(i) for i in ids], skip_special_tokens=skip_special_tokens)

    def decoder(self, skip_special_tokens: bool = True) -> IncrementalDecoder:
        """A fresh incremental detokenizer for one stream of generated ids."""
        return IncrementalDecoder(self, skip_special_tokens=skip_special_tokens)

    # --- chat -----------------------------------------------------------------------------------------------

    def apply_chat_template(
        self,
        messages: list[Mapping[str, Any]],
        add_generation_prompt: bool = True,
        tools: list[dict] | None = None,
        documents: list[dict] | None = None,
        **template_kwargs: Any,
    ) -> str:
        """Render a conversation ([{"role": ..., "content": ...}, ...]) to the prompt text.

        Same output as transformers' `apply_chat_template(messages, tokenize=False, ...)`. Encode the result
        with `encode` (the template writes the bos token itself). Without a template in the checkpoint,
        `FALLBACK_CHAT_TEMPLATE` ("User: ...\\n\\nAssistant:") is used; `has_chat_template` tells which.
        """
        variables = {**self.special_tokens, **template_kwargs}
        return render_chat(
            self._template,
            messages,
            add_generation_prompt=add_generation_prompt,
            tools=tools,
            documents=documents,
            variables=variables,
        )


class IncrementalDecoder:
    """Turns a stream of token ids into text, emitting only characters that are complete.

    Decoding token by token is wrong in two ways: a byte-level BPE token may hold part of a UTF-8 character
    (decoded alone it is U+FFFD), and sentencepiece decoders strip the leading "▁" space of the first token
    they see. So each step re-decodes a short window that starts a few tokens back (`_prefix`), compares it
    with the decoding of the same window without the new tokens, and emits the difference, unless the text
    ends in U+FFFD, in which case the tokens wait for the rest of their character. (The method of Hugging Face
    text-generation-inference and vLLM.) `flush()` emits whatever is still held at the end of the stream.
    """

    def __init__(self, tokenizer: Tokenizer, skip_special_tokens: bool = True):
        self._tk = tokenizer._tk
        self._skip = skip_special_tokens
        self._ids: list[int] = []
        self._prefix = 0  # start of the context window re-decoded at each step
        self._read = 0  # ids before this index have been emitted as text

    def _decode(self, ids: list[int]) -> str:
        return self._tk.decode(ids, skip_special_tokens=self._skip)

    def _delta(self) -> str:
        prefix_text = self._decode(self._ids[self._prefix : self._read])
        new_text = self._decode(self._ids[self._prefix :])
        # prefix_text is a prefix of new_text: the window starts on a token boundary that ended complete text.
        return new_text[len(prefix_text) :] if len(new_text) > len(prefix_text) else ""

    def push(self, token_id: int) -> str:
        """Add one id; return the text it completes (often "", sometimes several characters)."""
        self._ids.append(int(token_id))
        delta = self._delta()
        if not delta or delta.endswith("\ufffd"):
            return ""
        self._prefix, self._read = self._read, len(self._ids)
        return delta

    def flush(self) -> str:
        """Text still held back (an incomplete or invalid UTF-8 sequence at the end), as the full decode has it."""
        delta = self._delta()
        self._prefix = self._read = len(self._ids)
        return delta

    @property
    def ids(self) -> list[int]:
        return list(self._ids)
