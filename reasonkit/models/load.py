"""Resolve a model config to something every engine can load, and render prompts with the
model's own chat template (the same one SFT uses, so scores and training see identical text)."""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from reasonkit.models.config import ModelConfig

log = logging.getLogger(__name__)
_WARNED_UNPINNED: set[tuple[str, str | None]] = set()
SHA = re.compile(r"[0-9a-f]{40}")


def resolve(cfg: ModelConfig, models_dir: str) -> str:
    """A local folder path or hub id. Builtins are built on first use (and cached)."""
    sources = [s for s in (cfg.builtin, cfg.path, cfg.hf_id) if s]
    if len(sources) != 1:
        raise ValueError(f"model '{cfg.name}': set exactly one of builtin, path, hf_id (got {len(sources)})")
    if cfg.builtin:
        from reasonkit.models import tiny

        return str(tiny.ensure(cfg.builtin, models_dir))
    if cfg.path:
        if not Path(cfg.path).exists():
            raise FileNotFoundError(f"model '{cfg.name}': path {cfg.path} does not exist")
        return str(Path(cfg.path).absolute())
    warn_unpinned(cfg.hf_id, cfg.revision)  # type: ignore[arg-type]
    return cfg.hf_id  # type: ignore[return-value]


def warn_unpinned(hf_id: str, revision: str | None) -> bool:
    """Log once per (model, revision) when a hub model runs at a moving revision (a branch such
    as ``main``, or none): its weights and chat template can change under the same config, so
    results are not reproducible from the config alone. True when it warned."""
    if revision and SHA.fullmatch(revision):
        return False
    if (hf_id, revision) in _WARNED_UNPINNED:
        return False
    _WARNED_UNPINNED.add((hf_id, revision))
    log.warning("model %s: revision %r is not a commit sha (unpinned): the hub can change its weights or "
                "chat template under this config; set the model's revision to a 40-hex commit", hf_id, revision)
    return True


# model field -> vllm.LLM kwarg (and `vllm serve` flag: underscores become dashes)
ENGINE_DEFAULTS = {"context_length": "max_model_len", "tensor_parallel_size": "tensor_parallel_size"}


def sampler_for(sampler: Any, cfg: Any) -> Any:
    """``sampler`` with the model's engine defaults filled in where the sampler leaves them unset:
    ``sampler.engine`` (vLLM) and, for launched ``vllm serve`` servers, ``sampler.server.args``.
    Explicit sampler settings win; a fallback backend ignores ``engine``. Returns a new config
    (OmegaConf) and leaves ``sampler`` as it was."""
    from omegaconf import OmegaConf

    out = OmegaConf.create(OmegaConf.to_container(sampler, resolve=True)) if OmegaConf.is_config(sampler) \
        else OmegaConf.create(dict(sampler))
    defaults = {kw: getattr(cfg, f, None) if not isinstance(cfg, dict) else cfg.get(f)
                for f, kw in ENGINE_DEFAULTS.items()}
    defaults = {k: v for k, v in defaults.items() if v is not None}
    if not defaults:
        return out
    backend = out.get("backend")
    if backend == "vllm":
        engine = dict(out.get("engine") or {})
        out.engine = {**defaults, **engine}
    elif backend == "openai" and (out.get("server") or {}).get("launch", True):
        args = dict((out.server or {}).get("args") or {})
        dashed = {k.replace("-", "_") for k in args}
        out.server.args = {**{k: v for k, v in defaults.items() if k not in dashed}, **args}
    return out


def fingerprint(cfg: ModelConfig) -> dict[str, Any]:
    """What identifies a model beyond its config: the weights (a builtin's recipe digest, or a
    local folder's weight/config file sizes and mtimes, so a retrained folder gets new artifacts)
    and the text of a chat-template override (the file a config names may be edited)."""
    weights: str | None = None
    if cfg.builtin:
        from reasonkit.models import tiny

        weights = tiny.RECIPES[cfg.builtin].digest() if cfg.builtin in tiny.RECIPES else None
    elif cfg.path and Path(cfg.path).is_dir():
        files = sorted(Path(cfg.path).glob("*.safetensors")) + sorted(Path(cfg.path).glob("*.json"))
        weights = str([(f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files])
    return {"weights": weights, "template": template_text(cfg.chat_template)}


def template_text(chat_template: str | None) -> str | None:
    """A chat-template override as the text it renders with: an artifact's identity must change
    when the file a config names is edited, not only when the name changes."""
    if not chat_template:
        return None
    try:  # a template given inline can be longer than a file name may be
        is_file = Path(chat_template).is_file()
    except OSError:
        is_file = False
    return Path(chat_template).read_text() if is_file else chat_template


@lru_cache(maxsize=8)
def tokenizer(path: str, revision: str | None = None, chat_template: str | None = None):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path, revision=revision)
    if chat_template:
        tok.chat_template = template_text(chat_template)
    return tok


def render(tok: Any, prompt: str, system: str | None = None) -> str:
    msgs = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    return tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
