"""`ssmdoc inspect`: the token tree, the estimate without a model, and the model's context and state sizes."""

import json
from pathlib import Path

import pytest

from ingest.fixtures import make_pdf, make_repo, write
from ssmdoc.errors import InputError, ModelError
from ssmdoc.ingest import IngestOptions
from ssmdoc.inspect import inspect_inputs


def quiet(**kwargs):
    return IngestOptions(warn=lambda message: None, **kwargs)


@pytest.fixture(scope="module")
def jamba(tmp_path_factory) -> Path:
    from checkpoints import tiny_checkpoint

    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "jamba", "jamba")


def _check_sums(node):
    if node.children:
        assert node.tokens == sum(child.tokens for child in node.children.values()), node.name
        for child in node.children.values():
            _check_sums(child)


def test_estimate_is_bytes_over_four_and_says_so(tmp_path):
    text = write(tmp_path / "a.txt", "é" * 40 + "\n")  # 81 bytes of text
    result = inspect_inputs([str(text)], quiet())
    header = f"=== {text} ===\n"
    assert result.total_tokens == -(-(len(header) + 81) // 4)
    assert not result.exact and "estimate" in result.counter
    assert result.model is None


def test_token_tree_follows_directories_and_sums_up(tmp_path):
    make_repo(tmp_path / "repo")
    pdf = write(tmp_path / "doc.pdf", make_pdf(["one", "two"]))
    result = inspect_inputs([str(tmp_path / "repo"), str(pdf)], quiet(max_file_bytes=1000))
    _check_sums(result.tree)
    repo = result.tree.children[str(tmp_path / "repo")]
    assert repo.kind == "input-dir"
    assert set(repo.children["src"].children) == {".gitignore", "debug.log", "deep", "main.py", "secret.txt"}
    assert set(repo.children["src"].children["deep"].children) == {"util.py"}
    assert result.tree.children[str(pdf)].tokens > 0
    assert result.total_tokens == repo.tokens + result.tree.children[str(pdf)].tokens
    d = json.loads(result.to_json())
    assert d["total_tokens"] == result.total_tokens
    assert d["ingest"]["skipped"]["binary"] == ["data.bin", "image.png"]
    assert [node["name"] for node in d["tree"]] == [str(tmp_path / "repo"), str(pdf)]


def test_with_a_model_tokens_are_the_tokenizers_and_state_comes_from_the_config(tmp_path, jamba):
    from ssmdoc.models.tokenizer import Tokenizer

    path = write(tmp_path / "notes.md", "hello world, the quick brown fox\n" * 30)
    result = inspect_inputs([str(path)], quiet(), model=str(jamba))
    expected = len(Tokenizer.from_dir(jamba).encode(f"=== {path} ===\n" + path.read_text()))
    assert result.exact and result.total_tokens == expected

    raw = json.loads((jamba / "config.json").read_text())
    n, item = result.total_tokens, 4  # the tiny checkpoint is float32
    kv_width = raw["num_key_value_heads"] * (raw["hidden_size"] // raw["num_attention_heads"])
    attention_layers = sum(
        1 for i in range(raw["num_hidden_layers"]) if i % raw["attn_layer_period"] == raw["attn_layer_offset"]
    )
    info = result.model
    assert info.dtype == "float32"
    assert info.max_context == raw["max_position_embeddings"]
    assert info.state_bytes["kv"] == 2 * attention_layers * kv_width * n * item
    assert info.transformer_kv_bytes == 2 * raw["num_hidden_layers"] * kv_width * n * item
    assert info.state_bytes["ssm"] > 0 and info.state_bytes["conv"] > 0
    # the SSM part does not grow with the input
    bigger = inspect_inputs([str(path), str(path)], quiet(), model=str(jamba)).model
    assert bigger.state_bytes["ssm"] == info.state_bytes["ssm"]
    assert bigger.state_bytes["kv"] == 2 * info.state_bytes["kv"]


def test_model_without_tokenizer_falls_back_to_the_estimate_with_a_warning(tmp_path, jamba):
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "config.json").write_text((jamba / "config.json").read_text())
    path = write(tmp_path / "a.txt", "abc\n")
    warnings = []
    result = inspect_inputs([str(path)], IngestOptions(warn=warnings.append), model=str(bare))
    assert not result.exact and result.model is not None
    assert any("tokenizer" in w for w in warnings)


def test_unknown_model_is_a_model_error(tmp_path):
    path = write(tmp_path / "a.txt", "abc\n")
    with pytest.raises(ModelError):
        inspect_inputs([str(path)], quiet(), model=str(tmp_path / "no-such-dir"))


def test_input_errors_come_before_the_model_is_needed(tmp_path):
    with pytest.raises(InputError):
        inspect_inputs([str(tmp_path / "missing.pdf")], quiet(), model=str(tmp_path / "no-such-model"))
