"""Keep secrets out of everything a tracker writes.

Secrets reach reasonkit only through environment variables (``${oc.env:...}``), but a resolved
config, an error message or a sample can still carry one. So before anything leaves the process we
(1) blank config values whose *key* names a credential, (2) cut every occurrence of a secret
environment variable's *value* out of every string, and (3) cut strings shaped like well-known
API keys even when no variable holds them. Matching values (not only names) is what catches a key
embedded in a URL or a header dict.
"""
from __future__ import annotations

import os
import re
from typing import Any, Mapping

REDACTED = "<redacted>"

# Environment variable names that hold credentials (WANDB_API_KEY, OPENAI_API_KEY, HF_TOKEN,
# AWS_SECRET_ACCESS_KEY, GITHUB_TOKEN, DB_PASSWORD, ...).
_SECRET_ENV = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)", re.IGNORECASE)
# Config keys that hold credentials. Narrower than the env rule on purpose: tokenizer settings such
# as ``pad_token`` or ``max_tokens`` are not secrets.
_SECRET_KEY = re.compile(
    r"(^|_)(api_?key|secret|secret_?key|password|passwd|credentials?|access_?key|private_?key|"
    r"auth_?token|access_?token|hf_?token|bearer|authorization)$", re.IGNORECASE)
# Shapes of common provider keys (OpenAI/Anthropic sk-, Hugging Face hf_, GitHub gh?_, AWS, Slack).
_KEY_SHAPES = re.compile(
    r"\b(sk-[A-Za-z0-9_\-]{16,}|hf_[A-Za-z0-9]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|AKIA[0-9A-Z]{16}|"
    r"xox[abprs]-[A-Za-z0-9\-]{10,})")
# Shorter values are too likely to occur by chance ("1", "true", a port number).
MIN_SECRET_LEN = 8


def secret_values(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{value: variable name}`` of every credential-looking environment variable."""
    env = os.environ if environ is None else environ
    out = {}
    for name, value in env.items():
        if _SECRET_ENV.search(name) and len(value) >= MIN_SECRET_LEN:
            out[value] = name
    return out


def scrub(text: str, secrets: Mapping[str, str] | None = None) -> str:
    """``text`` with every secret value and every key-shaped token replaced."""
    secrets = secret_values() if secrets is None else secrets
    # Longest first, so a secret that contains another is removed whole.
    for value in sorted(secrets, key=len, reverse=True):
        if value in text:
            text = text.replace(value, f"<redacted:{secrets[value]}>")
    return _KEY_SHAPES.sub(REDACTED, text)


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(str(key)))


def redact(obj: Any, secrets: Mapping[str, str] | None = None) -> Any:
    """A copy of a JSON-like structure with credentials removed (see module docstring)."""
    secrets = secret_values() if secrets is None else secrets

    def walk(o: Any) -> Any:
        if isinstance(o, Mapping):
            return {k: (REDACTED if is_secret_key(k) and o[k] not in (None, "") else walk(o[k]))
                    for k in o}
        if isinstance(o, (list, tuple)):
            return [walk(v) for v in o]
        if isinstance(o, str):
            return scrub(o, secrets)
        return o

    return walk(obj)
