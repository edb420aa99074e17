"""The model-family registry: one file is enough to add a family, and the engine stays independent of the
application (issue 12)."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from typer.testing import CliRunner

from checkpoints import tiny_checkpoint
from ssmdoc.cli import app
from ssmdoc.models import load_pretrained
from ssmdoc.models.families import ENV_VAR, all_families

ROOT = Path(__file__).resolve().parents[2]

# A tenth family, from scratch: its own architecture name, config keys and tensor names (the weights of a
# Mamba-1 stack under other names), everything in this one file.
TOY_FAMILY = textwrap.dedent('''
    from ssmdoc.models.config import LayerSpec, ModelConfig, SSMConfig
    from ssmdoc.models.families import Family


    def parse_toy(raw, architecture):
        hidden = int(raw["width"])
        return ModelConfig(
            architecture=architecture, model_type="toy_ssm", vocab_size=int(raw["vocab"]), hidden_size=hidden,
            layers=[LayerSpec("mamba1")] * int(raw["depth"]), tie_word_embeddings=True, residual_in_fp32=True,
            eos_token_ids=[1], ssm=SSMConfig(state_size=int(raw["state"]), inner_size=2 * hidden, conv_kernel=4,
                                             time_step_rank=int(raw["rank"])),
        )


    FAMILIES = [Family(
        architecture="ToySSMForCausalLM",
        model_type="toy_ssm",
        parse=parse_toy,
        weight_names=[
            (r"toy\\.emb", "embed.weight"),
            (r"toy\\.final_norm", "norm_f.weight"),
            (r"toy\\.blocks\\.(\\d+)\\.pre_norm", r"layers.\\1.norm.weight"),
            (r"toy\\.blocks\\.(\\d+)\\.ssm\\.(.+)", r"layers.\\1.mixer.\\2"),
        ],
        layout="Mamba-1 layers under toy names (a test family)",
        recommended=(("example/toy-ssm", "the test family's checkpoint", 99),),
    )]
''')

_RENAMES = [(r"backbone\.embeddings\.weight", "toy.emb"), (r"backbone\.norm_f\.weight", "toy.final_norm"),
            (r"backbone\.layers\.(\d+)\.norm\.weight", r"toy.blocks.\1.pre_norm"),
            (r"backbone\.layers\.(\d+)\.mixer\.(.+)", r"toy.blocks.\1.ssm.\2")]


def _toy_checkpoint(tmp_path: Path) -> tuple[Path, Path]:
    """A tiny transformers Mamba checkpoint, and the same weights written as a ToySSM checkpoint."""
    mamba = tiny_checkpoint(tmp_path / "mamba", "mamba")
    raw = json.loads((mamba / "config.json").read_text())
    toy = tmp_path / "toy"
    toy.mkdir()
    (toy / "config.json").write_text(json.dumps({
        "architectures": ["ToySSMForCausalLM"], "model_type": "toy_ssm", "vocab": raw["vocab_size"],
        "width": raw["hidden_size"], "depth": raw["num_hidden_layers"], "state": raw["state_size"],
        "rank": raw["time_step_rank"]}))
    tensors = {}
    for name, tensor in load_file(mamba / "model.safetensors").items():
        for pattern, repl in _RENAMES:
            if re.fullmatch(pattern, name):
                tensors[re.sub(pattern, repl, name)] = tensor
                break
    save_file(tensors, toy / "model.safetensors")
    shutil.copy(mamba / "tokenizer.json", toy / "tokenizer.json")
    return mamba, toy


def test_a_tenth_family_from_one_file_is_listed_and_loads(tmp_path, monkeypatch):
    family_file = tmp_path / "toy_family.py"
    family_file.write_text(TOY_FAMILY)
    mamba, toy = _toy_checkpoint(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv(ENV_VAR, str(family_file))

    result = CliRunner().invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.stderr
    info = json.loads(result.stdout)
    assert {"architecture": "ToySSMForCausalLM", "layers": "Mamba-1 layers under toy names (a test family)"} \
        in info["architectures"]
    assert info["recommended"][-1]["repo_id"] == "example/toy-ssm"

    ids = torch.tensor([[5, 9, 3, 7, 11, 2]])
    with torch.no_grad():
        got = load_pretrained(toy)(ids)
        want = load_pretrained(mamba)(ids)
    torch.testing.assert_close(got, want, rtol=0, atol=0)

    monkeypatch.delenv(ENV_VAR)
    assert "ToySSMForCausalLM" not in {f.architecture for f in all_families()}


def _python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_the_engine_imports_nothing_from_the_application():
    app_import = re.compile(r"^\s*(?:from|import)\s+ssmdoc\.(?!models\b|kernels\b)", re.M)
    relative_up = re.compile(r"^\s*from\s+\.\.\.", re.M)  # out of models/families (or deeper) into ssmdoc/
    offenders = [str(p.relative_to(ROOT)) for folder in ("models", "kernels") for p in _python_files(folder)
                 if app_import.search(p.read_text()) or relative_up.search(p.read_text())]
    assert offenders == []


# the modules that may name a mixer kind: the layer descriptions and the layers themselves, and the families
_LAYER_FILES = {"models/config.py", "models/model.py", "models/mamba1.py", "models/mamba2.py",
                "models/attention.py", "models/parallel.py", "models/shared_block.py", "models/ffn.py"}


def test_no_branch_on_the_mixer_kind_outside_the_layers_and_families():
    kind = r"""["'](?:mamba1|mamba2|attention|parallel|none)["']"""
    branch = re.compile(rf"mixer\s*(?:==|!=)\s*{kind}|{kind}\s*(?:==|!=)\s*\w*\.?mixer|mixer\s+(?:not\s+)?in\s*[(\[{{]"
                        rf"|layer_indices\(\s*{kind}")
    offenders = []
    for folder in ("models", "kernels", "ssmdoc"):
        for path in _python_files(folder):
            rel = str(path.relative_to(ROOT))
            if rel in _LAYER_FILES or rel.startswith("models/families/"):
                continue
            offenders += [f"{rel}:{n}" for n, line in enumerate(path.read_text().splitlines(), 1)
                          if branch.search(line)]
    assert offenders == []
