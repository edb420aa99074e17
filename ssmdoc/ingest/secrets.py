"""Files that look like secrets: kept out of directory walks unless --include-secrets, warned about when named.

A saved state is a real (if lossy) encoding of what was read, so an `.env` read into it travels with the
file. Two tests, the cheaper first:
- the name: well-known credential files (`.env*`, `id_rsa*`, `*.pem`, `.aws/credentials`, `.npmrc`, ...);
- the content: detect-secrets' detectors of specific credential formats (AWS keys, private key blocks,
  GitHub/GitLab/Slack/Stripe/OpenAI/PyPI/npm tokens, JWTs, ...), run over the text with `analyze_string`
  only: its verification step, which would send a found secret to its service, is never called. The
  entropy and keyword detectors are left out: they fire on ordinary code (hashes, `password = ...` in tests).
"""

from __future__ import annotations

import fnmatch
import functools

# Glob patterns on the file name (fnmatch, case-sensitive), or on the last two path parts when they hold a "/".
SECRET_NAMES = (
    ".env", ".env.*", "*.env", ".envrc",
    "id_rsa", "id_rsa_*", "id_dsa", "id_dsa_*", "id_ecdsa", "id_ecdsa_*", "id_ed25519", "id_ed25519_*",
    "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.kdbx",
    ".npmrc", ".netrc", "_netrc", ".pypirc", ".pgpass", ".git-credentials", ".htpasswd",
    "credentials.json", "service-account*.json", "secrets.yml", "secrets.yaml", "secrets.json",
    ".aws/credentials", ".aws/config", ".docker/config.json", ".kube/config", ".ssh/*",
)
# Public halves and templates are not secrets.
_NOT_SECRET = ("*.pub", ".env.example", ".env.sample", ".env.template", ".env.dist", "*.pub.asc")

# detect-secrets plugins (module, class) for formats specific enough to trust in ordinary code.
_DETECTORS = (
    ("aws", "AWSKeyDetector"), ("private_key", "PrivateKeyDetector"), ("github_token", "GitHubTokenDetector"),
    ("gitlab_token", "GitLabTokenDetector"), ("slack", "SlackDetector"), ("stripe", "StripeDetector"),
    ("openai", "OpenAIDetector"), ("pypi_token", "PypiTokenDetector"), ("npm", "NpmDetector"),
    ("sendgrid", "SendGridDetector"), ("twilio", "TwilioKeyDetector"), ("jwt", "JwtTokenDetector"),
    ("azure_storage_key", "AzureStorageKeyDetector"), ("mailchimp", "MailchimpDetector"),
    ("square_oauth", "SquareOAuthDetector"), ("artifactory", "ArtifactoryDetector"),
    ("discord", "DiscordBotTokenDetector"),
)
SCAN_BYTES = 1 << 20  # content is scanned in the first MiB (a walk reads no larger file by default)


def name_reason(rel_path: str) -> str | None:
    """Why a file's path looks like a credential file (`secret name: .env`), else None."""
    parts = rel_path.replace("\\", "/").rstrip("/").split("/")
    name, tail = parts[-1], "/".join(parts[-2:])
    if any(fnmatch.fnmatchcase(name, p) for p in _NOT_SECRET):
        return None
    for pattern in SECRET_NAMES:
        if fnmatch.fnmatchcase(tail if "/" in pattern else name, pattern):
            return f"secret name: {pattern}"
    return None


@functools.lru_cache(maxsize=1)
def _detectors() -> tuple:
    import importlib

    out = []
    for module, cls in _DETECTORS:
        try:
            out.append(getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), cls)())
        except (ImportError, AttributeError):  # a detector renamed in another detect-secrets release
            continue
    return tuple(out)


def content_reason(text: str) -> str | None:
    """The kind of the first credential found in `text` (`secret content: AWS Access Key`), else None."""
    text = text[:SCAN_BYTES]
    for detector in _detectors():
        for _ in detector.analyze_string(text):
            return f"secret content: {detector.secret_type}"
    return None


def file_reason(path: str, rel_path: str) -> str | None:
    """Name first, then content (the first SCAN_BYTES bytes as UTF-8 text); None for an ordinary file."""
    reason = name_reason(rel_path)
    if reason is not None:
        return reason
    try:
        with open(path, "rb") as fh:
            data = fh.read(SCAN_BYTES)
    except OSError:
        return None  # reading it will report the problem
    return content_reason(data.decode("utf-8", "replace"))
