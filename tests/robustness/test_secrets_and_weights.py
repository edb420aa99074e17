"""Why, bullets 3-4: secrets read into the model without a word; a state accepted by other weights."""

import json

import pytest
from contract import cli, leftovers

from checkpoints import tiny_checkpoint

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"  # AWS's documented example access key id


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    (root / ".aws").mkdir(parents=True)
    (root / "src").mkdir()
    (root / "README.md").write_text("# service\nIt serves.\n")
    (root / "src" / "app.py").write_text("def handler():\n    return 'ok'\n")
    (root / ".env").write_text("DATABASE_URL=postgres://admin:hunter2@db/prod\n")
    (root / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
                                 "-----END OPENSSH PRIVATE KEY-----\n")
    (root / "id_rsa.pub").write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI user@host\n")  # public: read
    (root / ".aws" / "credentials").write_text(f"[default]\naws_access_key_id = {AWS_KEY}\n")
    (root / ".npmrc").write_text("//registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789\n")
    (root / "src" / "settings.py").write_text(f"AWS_ACCESS_KEY_ID = '{AWS_KEY}'\n")  # by content only
    return root


SECRETS = {".env", "id_rsa", ".aws/credentials", ".npmrc", "src/settings.py"}


def skipped_secrets(report: dict) -> set[str]:
    return {path for reason, paths in report["ingest"]["skipped"].items() if reason.startswith("secret")
            for path in paths}


def test_inspect_skips_secrets_by_default_and_lists_them(repo):
    report = json.loads(cli("inspect", repo, "--json").ok().stdout)
    assert skipped_secrets(report) == SECRETS
    text = cli("inspect", repo).ok().stdout
    assert "secret name: .env" in text and "secret content: AWS Access Key" in text


def test_include_secrets_reads_them(repo):
    report = json.loads(cli("inspect", repo, "--json", "--include-secrets").ok().stdout)
    assert skipped_secrets(report) == set() and report["ingest"]["files_read"] == 8


def test_a_saved_state_records_whether_secrets_were_read(mamba_ckpt, repo, tmp_path):
    clean, leaky = tmp_path / "clean.state", tmp_path / "leaky.state"
    cli("read", repo, "--save", clean, "--model", mamba_ckpt, "--quiet").ok()
    cli("read", repo, "--save", leaky, "--model", mamba_ckpt, "--quiet", "--include-secrets").ok()
    info = json.loads(cli("state", "info", clean, "--json").ok().stdout)
    assert info["secrets_included"] is False
    assert not any(s["path"].endswith((".env", "id_rsa", "credentials")) for s in info["sources"])
    assert json.loads(cli("state", "info", leaky, "--json").ok().stdout)["secrets_included"] is True


def test_a_secret_named_explicitly_is_read_with_a_warning(mamba_ckpt, repo, tmp_path):
    state = tmp_path / "env.state"
    run = cli("read", repo / ".env", "--save", state, "--model", mamba_ckpt, "--quiet").ok()
    assert "warning:" in run.stderr and "secret" in run.stderr
    assert json.loads(cli("state", "info", state, "--json").ok().stdout)["secrets_included"] is True


def test_a_state_from_same_layout_different_weights_is_refused(mamba_ckpt, tmp_path):
    """Acceptance: two checkpoints of one layout, different seeds; the headers are identical."""
    other = tiny_checkpoint(tmp_path / "mamba_seed7", "mamba", seed=7)
    a = (mamba_ckpt / "model.safetensors").read_bytes()
    b = (other / "model.safetensors").read_bytes()
    n = int.from_bytes(a[:8], "little")
    assert a[: 8 + n] == b[: 8 + n] and a != b  # same layout, byte for byte; other weights
    doc = tmp_path / "doc.txt"
    doc.write_text("The tenant pays rent monthly.\n")
    state = tmp_path / "doc.state"
    cli("read", doc, "--save", state, "--model", mamba_ckpt, "--quiet").ok()
    cli("ask", state, "who pays?", "--model", other).error("another model")
    cli("ask", state, "who pays?", "--model", mamba_ckpt, "--max-new-tokens", "2").ok()
    assert leftovers(tmp_path) == []
