"""Real chat templates (tests/fixtures/real/*/chat_template.jinja or tokenizer_config.json's chat_template)
render byte-identically to transformers' apply_chat_template, on conversations that reach their branches:
system or none, several turns, a final assistant turn, tools and tool replies, /think and /no_think."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tiny_tokenizer import build_tokenizer

from ssmdoc.models.tokenizer import Tokenizer

transformers = pytest.importorskip("transformers")
REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"


def _template(d: Path) -> str | None:
    if (d / "chat_template.jinja").is_file():
        return (d / "chat_template.jinja").read_text(encoding="utf-8")
    if (d / "tokenizer_config.json").is_file():
        return json.loads((d / "tokenizer_config.json").read_text(encoding="utf-8")).get("chat_template")
    return None


TEMPLATES = sorted(d.name for d in REAL.iterdir() if _template(d))
TOOLS = [{"type": "function", "function": {"name": "grep", "description": "Find <text> & 'lines'",
                                           "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}]
CALL = [{"type": "function", "function": {"name": "grep", "arguments": {"q": "disk full"}}}]
CONVERSATIONS = [
    [{"role": "user", "content": "Summarise the log."}],
    [{"role": "system", "content": "Be brief. /no_think"}, {"role": "user", "content": "What failed?"}],
    [{"role": "system", "content": "You read long documents."}, {"role": "user", "content": "Which page? /think"},
     {"role": "assistant", "content": "<think>look</think> Page 7."}, {"role": "user", "content": "Notice period?"}],
    [{"role": "user", "content": "Find it"}, {"role": "assistant", "content": "", "tool_calls": CALL},
     {"role": "tool", "content": "line 3: disk full"}, {"role": "tool", "content": "line 9: retry"},
     {"role": "user", "content": "So?"}],
    [{"role": "user", "content": "  日本語 🙂 {{ x }}\n\nline 2\t "}, {"role": "assistant", "content": "Partial answer"}],
]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    return build_tokenizer(tmp_path_factory.mktemp("tok"))


@pytest.mark.parametrize("name", TEMPLATES)
@pytest.mark.parametrize("add_generation_prompt", [True, False])
@pytest.mark.parametrize("with_tools", [False, True])
def test_real_template_renders_as_transformers(name, add_generation_prompt, with_tools, tiny_dir, tmp_path):
    directory = tmp_path / name
    shutil.copytree(tiny_dir, directory)
    (directory / "chat_template.jinja").write_text(_template(REAL / name), encoding="utf-8")
    ours = Tokenizer.from_dir(directory)
    theirs = transformers.PreTrainedTokenizerFast.from_pretrained(str(directory))
    tools = TOOLS if with_tools else None
    for messages in CONVERSATIONS:
        expected = theirs.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt,
                                              tools=tools)
        assert ours.apply_chat_template(messages, add_generation_prompt=add_generation_prompt, tools=tools) == expected


def test_there_are_real_templates():
    assert TEMPLATES
