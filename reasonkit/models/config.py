"""Schema of the ``model`` group (used twice: ``model@teacher`` and ``model@student``)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ModelConfig:
    # Short name used in artifact names, records' provenance and report rows.
    name: str = "???"
    # Exactly one source: a builtin recipe (built locally on first use), a local folder, or a hub id.
    builtin: str | None = None
    path: str | None = None
    hf_id: str | None = None
    revision: str | None = None
    # A Jinja chat template overriding the tokenizer's (file path or inline string).
    chat_template: str | None = None
    system_prompt: str | None = None
    dtype: str = "auto"
