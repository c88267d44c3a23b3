"""Prompt templates as config: ``conf/prompt/<name>.yaml`` holds a Jinja template, so the text a
model sees is part of the config (and of every artifact hash that depends on it), not code.

Generation and evaluation render through :func:`render`, so a problem is asked the same way when
a teacher writes traces and when a checkpoint is evaluated on it.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

# Bump when rendering changes for an unchanged template (e.g. Jinja settings below).
PROMPT_VERSION = "1"


@dataclass
class PromptConfig:
    """Schema of the ``prompt`` group."""

    name: str = "???"
    # Jinja template; variables: problem (the benchmark's question text), choices (list of option
    # texts), letters (their labels), row (the source row, every field), plus a benchmark's extras.
    template: str = "{{ problem }}"
    # true: the rendered text is the whole model input (base-model templates such as R1-zero);
    # false: it becomes the user message of the model's chat template.
    raw: bool = False


def prompt_dir() -> Path:
    from reasonkit.config import CONF_DIR

    return CONF_DIR / "prompt"


def load_prompt(ref: str | Mapping[str, Any] | PromptConfig) -> PromptConfig:
    """A prompt option by name (``conf/prompt/<name>.yaml``), a path to such a YAML, or a mapping
    with the schema's fields. Unknown keys fail here, naming the key."""
    if isinstance(ref, PromptConfig):
        return ref
    if isinstance(ref, str):
        path = Path(ref) if ref.endswith((".yaml", ".yml")) else prompt_dir() / f"{ref}.yaml"
        if not path.exists():
            known = sorted(p.stem for p in prompt_dir().glob("*.yaml"))
            raise ValueError(f"prompt {ref!r}: no {path}; expected one of {', '.join(known)} or a YAML path")
        node = OmegaConf.load(path)
    else:
        node = OmegaConf.create(dict(ref) if not OmegaConf.is_config(ref) else ref)
    merged = OmegaConf.merge(OmegaConf.structured(PromptConfig), node)
    return OmegaConf.to_object(merged)  # type: ignore[return-value]


@lru_cache(maxsize=64)
def _compile(template: str):
    from jinja2 import Environment, StrictUndefined

    # StrictUndefined: a template naming a field the row lacks fails loudly instead of asking the
    # model an empty question; keep_trailing_newline: the text is exactly what the YAML says.
    env = Environment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
    return env.from_string(template)


def render(prompt: str | Mapping[str, Any] | PromptConfig, **variables: Any) -> str:
    """The prompt text for one problem. ``prompt`` is a name, YAML path, mapping or config."""
    from jinja2 import TemplateError

    cfg = load_prompt(prompt)
    try:
        return _compile(cfg.template).render(**variables).strip()
    except TemplateError as e:  # UndefinedError, TemplateSyntaxError
        raise ValueError(f"prompt '{cfg.name}': {type(e).__name__}: {e} "
                         f"(variables given: {', '.join(sorted(variables))})") from None


def identity(prompt: str | Mapping[str, Any] | PromptConfig) -> dict[str, Any]:
    """What enters an artifact hash: the template text itself (an edited YAML changes the hash),
    the raw flag and the renderer's version."""
    cfg = load_prompt(prompt)
    return {"name": cfg.name, "raw": cfg.raw, "template_sha256": hashlib.sha256(cfg.template.encode()).hexdigest()[:16],
            "version": PROMPT_VERSION}
