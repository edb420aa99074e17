"""ssmdoc.models.tokenizer against transformers' tokenizer on the tiny tokenizer's directory.

transformers is the oracle: chat templates must render to the same string, encoding must give the same ids,
and decoding the same text. The incremental decoder must add up to the full decode.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jinja2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiny_tokenizer import CORPUS, build_tokenizer
from tokenizers import AddedToken, decoders, models, normalizers, trainers
from tokenizers import Tokenizer as Backend

from ssmdoc.models.errors import GenerationError, ModelError
from ssmdoc.models.tokenizer import FALLBACK_CHAT_TEMPLATE, Tokenizer

transformers = pytest.importorskip("transformers")

HYPOTHESIS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

CONVERSATIONS = [
    [{"role": "user", "content": "Summarise the log."}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What failed?"}],
    [
        {"role": "system", "content": "  You read long documents.\n"},
        {"role": "user", "content": "Which page mentions termination?"},
        {"role": "assistant", "content": "Page 7, section 12.3."},
        {"role": "user", "content": "And the notice period?"},
    ],
    [{"role": "user", "content": "  {{ not jinja }} {% raw %} <b>&amp; 'q' \"dq\" 日本語 🙂\n\nline 2\t "}],
    [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello!", "tool_calls": None}],
]

# Exercises what transformers adds to plain jinja2: namespace, loop controls, the generation tag, tojson that
# does not HTML-escape (with its keyword options), dict(), tools, dropped None keys, reasoning aliases,
# special-token variables, and trim_blocks/lstrip_blocks on indented block tags.
FEATURE_TEMPLATE = """{%- set ns = namespace(system='', turns=0) -%}
{%- for m in messages -%}
    {%- if m.role == 'system' -%}{%- set ns.system = m.content -%}{%- continue -%}{%- endif -%}
    {%- set ns.turns = ns.turns + 1 -%}
{%- endfor -%}
{{ bos_token }}{% if ns.system %}[SYS]{{ ns.system }}[/SYS]{% endif %}
{% for m in messages if m.role != 'system' %}
    {% if loop.index > 6 %}{% break %}{% endif %}
<{{ m.role }}>
    {% if m.role == 'assistant' %}
        {% if m.reasoning_content is defined %}<think>{{ m.reasoning_content }}</think>{% endif %}
{% generation %}{{ m.content }}{% endgeneration %}
    {% else %}
{{ m.content }}
    {% endif %}
    {% if m.tool_calls is defined %}CALLS{% endif %}
{{ eos_token }}
{% endfor %}
{% if tools %}TOOLS {{ tools | tojson }} {{ tools | tojson(indent=2, sort_keys=True) }}{% endif %}
meta {{ dict(turns=ns.turns, pad=pad_token, unk=unk_token is defined) | tojson(sort_keys=True) }}
{% if add_generation_prompt %}<assistant>{% endif %}"""

TOOLS = [{"type": "function", "function": {"name": "grep", "description": "Find <text> & 'lines'",
                                           "parameters": {"type": "object", "properties": {}}}}]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    return build_tokenizer(tmp_path_factory.mktemp("tok"))


@pytest.fixture(scope="module")
def ours(tiny_dir) -> Tokenizer:
    return Tokenizer.from_dir(tiny_dir)


@pytest.fixture(scope="module")
def theirs(tiny_dir):
    return transformers.PreTrainedTokenizerFast.from_pretrained(str(tiny_dir))


def _copy_with_config(src: Path, dst: Path, **changes) -> Path:
    """A copy of the tiny tokenizer directory with tokenizer_config.json fields changed (None deletes)."""
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copy(src / "tokenizer.json", dst / "tokenizer.json")
    config = json.loads((src / "tokenizer_config.json").read_text())
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    (dst / "tokenizer_config.json").write_text(json.dumps(config))
    return dst


# --- the tiny tokenizer itself ------------------------------------------------------------------------------


def test_tiny_tokenizer_is_deterministic_and_fits_the_tiny_models(tmp_path, tiny_dir):
    again = build_tokenizer(tmp_path / "again")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        assert (again / name).read_bytes() == (tiny_dir / name).read_bytes()
    backend = Backend.from_file(str(tiny_dir / "tokenizer.json"))
    assert backend.get_vocab_size() <= 512
    for token in ("<|bos|>", "<|eos|>", "<|pad|>", "<|user|>", "<|assistant|>", "<|system|>"):
        assert backend.token_to_id(token) < 512


# --- chat templates -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("add_generation_prompt", [True, False])
@pytest.mark.parametrize("messages", CONVERSATIONS, ids=range(len(CONVERSATIONS)))
def test_chat_template_renders_as_transformers(ours, theirs, messages, add_generation_prompt):
    expected = theirs.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)
    assert ours.apply_chat_template(messages, add_generation_prompt=add_generation_prompt) == expected
    assert ours.encode(expected) == theirs.encode(expected, add_special_tokens=False)


@pytest.mark.parametrize("add_generation_prompt", [True, False])
@pytest.mark.parametrize("with_tools", [False, True])
def test_template_features_render_as_transformers(tmp_path, tiny_dir, add_generation_prompt, with_tools):
    directory = _copy_with_config(tiny_dir, tmp_path, chat_template=FEATURE_TEMPLATE)
    theirs = transformers.PreTrainedTokenizerFast.from_pretrained(str(directory))
    ours = Tokenizer.from_dir(directory)
    messages = CONVERSATIONS[2] + [{"role": "assistant", "content": "Thirty days.", "reasoning": "see p.7"}]
    messages += CONVERSATIONS[4] + CONVERSATIONS[0]  # the last one is beyond the template's {% break %}
    tools = TOOLS if with_tools else None
    expected = theirs.apply_chat_template(
        messages, tools=tools, tokenize=False, add_generation_prompt=add_generation_prompt
    )
    # The template really branches: reasoning aliased, None keys dropped, the loop broken.
    assert "<think>see p.7</think>" in expected and "Hello!" in expected
    assert "CALLS" not in expected and "Summarise" not in expected
    assert ours.apply_chat_template(messages, add_generation_prompt=add_generation_prompt, tools=tools) == expected


def test_chat_template_jinja_file_overrides_the_config(tmp_path, tiny_dir):
    directory = _copy_with_config(tiny_dir, tmp_path)
    (directory / "chat_template.jinja").write_text("{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}")
    theirs = transformers.PreTrainedTokenizerFast.from_pretrained(str(directory))
    expected = theirs.apply_chat_template(CONVERSATIONS[2], tokenize=False)
    assert expected.startswith("[system]")
    assert Tokenizer.from_dir(directory).apply_chat_template(CONVERSATIONS[2]) == expected


def test_named_templates_use_the_default(tmp_path, tiny_dir):
    named = [{"name": "default", "template": "D{{ messages | length }}"}, {"name": "rag", "template": "R"}]
    directory = _copy_with_config(tiny_dir, tmp_path, chat_template=named)
    assert Tokenizer.from_dir(directory).apply_chat_template(CONVERSATIONS[1]) == "D2"


def test_template_errors_are_model_errors(ours, theirs):
    bad = [{"role": "tool", "content": "x"}]
    with pytest.raises(jinja2.TemplateError, match="Unknown role"):
        theirs.apply_chat_template(bad, tokenize=False)
    with pytest.raises(ModelError, match="Unknown role: tool"):
        ours.apply_chat_template(bad)
    with pytest.raises(ModelError, match="must come first"):
        ours.apply_chat_template([{"role": "user", "content": "a"}, {"role": "system", "content": "b"}])
    with pytest.raises(GenerationError):
        ours.apply_chat_template([])


def test_sandbox_refuses_escapes(tmp_path, tiny_dir):
    escape = "{{ messages.__class__.__mro__ }}"
    directory = _copy_with_config(tiny_dir, tmp_path, chat_template=escape)
    with pytest.raises(ModelError):
        Tokenizer.from_dir(directory).apply_chat_template(CONVERSATIONS[0])
    directory = _copy_with_config(tiny_dir, tmp_path / "ns", chat_template="{% set ns = namespace(_x=1) %}")
    with pytest.raises(ModelError):
        Tokenizer.from_dir(directory).apply_chat_template(CONVERSATIONS[0])


def test_missing_template_falls_back_to_plain_turns(tmp_path, tiny_dir):
    tokenizer = Tokenizer.from_dir(_copy_with_config(tiny_dir, tmp_path, chat_template=None))
    assert not tokenizer.has_chat_template and tokenizer.chat_template == FALLBACK_CHAT_TEMPLATE
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": " What failed? "}]
    assert tokenizer.apply_chat_template(messages) == "System: Be brief.\n\nUser: What failed?\n\nAssistant:"
    assert tokenizer.apply_chat_template(messages, add_generation_prompt=False).endswith("What failed?\n\n")


def test_invalid_template_syntax_is_a_model_error(tmp_path, tiny_dir):
    directory = _copy_with_config(tiny_dir, tmp_path, chat_template="{% for m in messages %}unclosed")
    with pytest.raises(ModelError, match="chat template"):
        Tokenizer.from_dir(directory)


# --- special tokens -----------------------------------------------------------------------------------------


def test_special_tokens_match_transformers(ours, theirs):
    assert ours.bos_token_id == theirs.bos_token_id
    assert ours.eos_token_ids == [theirs.eos_token_id]
    assert ours.pad_token_id == theirs.pad_token_id
    assert ours.special_tokens == theirs.special_tokens_map


def test_special_tokens_as_dicts_and_from_the_legacy_map(tmp_path, tiny_dir):
    directory = _copy_with_config(
        tiny_dir, tmp_path, bos_token=None, eos_token={"__type": "AddedToken", "content": "<|eos|>", "lstrip": False}
    )
    (directory / "special_tokens_map.json").write_text(
        json.dumps({"bos_token": {"content": "<|system|>", "special": True}, "pad_token": "<|user|>"})
    )
    theirs = transformers.PreTrainedTokenizerFast.from_pretrained(str(directory))
    ours = Tokenizer.from_dir(directory)
    assert ours.special_tokens == theirs.special_tokens_map
    assert (ours.bos_token_id, ours.pad_token_id) == (theirs.bos_token_id, theirs.pad_token_id)
    assert ours.eos_token_ids == [theirs.eos_token_id]


def test_eos_ids_gather_generation_config_config_and_tokenizer(tmp_path, tiny_dir):
    directory = _copy_with_config(tiny_dir, tmp_path, bos_token=None)
    (directory / "generation_config.json").write_text(json.dumps({"eos_token_id": [5, 1]}))
    (directory / "config.json").write_text(json.dumps({"eos_token_id": 3, "bos_token_id": 4}))
    tokenizer = Tokenizer.from_dir(directory)
    assert tokenizer.eos_token_ids == [5, 1, 3]  # order of mention, the tokenizer's <|eos|> (1) once
    assert tokenizer.bos_token_id == 4  # no bos token in the tokenizer: the model config's


def test_missing_or_corrupt_files_are_model_errors(tmp_path, tiny_dir):
    with pytest.raises(ModelError, match="no tokenizer.json"):
        Tokenizer.from_dir(tmp_path)
    (tmp_path / "tokenizer.json").write_text("{not json")
    with pytest.raises(ModelError, match="tokenizer.json"):
        Tokenizer.from_dir(tmp_path)
    directory = _copy_with_config(tiny_dir, tmp_path / "cfg")
    (directory / "tokenizer_config.json").write_text("[1, 2")
    with pytest.raises(ModelError, match="tokenizer_config.json"):
        Tokenizer.from_dir(directory)


# --- encoding and decoding ----------------------------------------------------------------------------------

# Text drawn from the corpus alphabet (merges fire) mixed with any Unicode character (multi-byte UTF-8).
TEXT = st.text(
    st.one_of(st.sampled_from(sorted(set("".join(CORPUS)))), st.characters(codec="utf-8")), max_size=60
) | st.lists(st.sampled_from(CORPUS), max_size=3).map(" ".join)


@HYPOTHESIS
@given(text=TEXT)
def test_encode_decode_match_transformers(ours, theirs, text):
    ids = ours.encode(text)
    assert ids == theirs.encode(text, add_special_tokens=False)
    assert ours.decode(ids) == text  # byte-level BPE is lossless
    assert ours.decode(ids) == theirs.decode(ids, skip_special_tokens=True)


def test_special_tokens_in_text_are_recognised_and_skipped(ours, theirs):
    ids = ours.encode("<|user|>\nhi<|eos|>")
    assert ids[0] == ours.token_to_id("<|user|>") and ids[-1] == 1
    assert ours.decode(ids) == theirs.decode(ids, skip_special_tokens=True) == "\nhi"
    assert ours.decode(ids, skip_special_tokens=False) == "<|user|>\nhi<|eos|>"


def _stream(tokenizer: Tokenizer, ids: list[int]) -> list[str]:
    decoder = tokenizer.decoder()
    return [decoder.push(i) for i in ids] + [decoder.flush()]


@HYPOTHESIS
@given(text=TEXT)
def test_incremental_decoder_adds_up_to_the_full_decode(ours, text):
    ids = ours.encode(text)
    pieces = _stream(ours, ids)
    assert "".join(pieces) == ours.decode(ids) == text
    assert not any("\ufffd" in piece for piece in pieces)  # never half a character


@HYPOTHESIS
@given(ids=st.lists(st.integers(0, 511), max_size=40))
def test_incremental_decoder_on_arbitrary_ids(ours, ids):
    # Random models emit invalid byte sequences and special tokens: still the same text as the full decode.
    assert "".join(_stream(ours, ids)) == ours.decode(ids)


@pytest.fixture(scope="module")
def sentencepiece_style(tmp_path_factory) -> Tokenizer:
    """A Llama-style tokenizer: "▁" for spaces, byte fallback for characters outside a small alphabet."""
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<s>", "</s>"], limit_alphabet=60,
                                  show_progress=False)
    draft = Backend(models.BPE(unk_token="<unk>"))
    draft.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    draft.train_from_iterator(CORPUS, trainer)
    trained = json.loads(draft.to_str())["model"]
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2} | {f"<0x{b:02X}>": 3 + b for b in range(256)}
    for token, _ in sorted(trained["vocab"].items(), key=lambda kv: kv[1]):
        vocab.setdefault(token, len(vocab))
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in trained["merges"]]
    backend = Backend(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    backend.normalizer = draft.normalizer
    backend.decoder = decoders.Sequence(
        [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    backend.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in ("<unk>", "<s>", "</s>")])
    directory = tmp_path_factory.mktemp("sp")
    backend.save(str(directory / "tokenizer.json"))
    (directory / "tokenizer_config.json").write_text(json.dumps({"bos_token": "<s>", "eos_token": "</s>"}))
    return Tokenizer.from_dir(directory)


@HYPOTHESIS
@given(text=TEXT)
def test_incremental_decoder_sentencepiece_spaces_and_byte_fallback(sentencepiece_style, text):
    ids = sentencepiece_style.encode(text)
    pieces = _stream(sentencepiece_style, ids)
    assert "".join(pieces) == sentencepiece_style.decode(ids)
    assert not any("\ufffd" in piece for piece in pieces)


def test_sentencepiece_pieces_keep_their_spaces(sentencepiece_style):
    ids = sentencepiece_style.encode("ok then 日本 done")
    assert any(sentencepiece_style.id_to_token(i).startswith("<0x") for i in ids)  # byte fallback is used
    assert "".join(_stream(sentencepiece_style, ids)) == "ok then 日本 done"
