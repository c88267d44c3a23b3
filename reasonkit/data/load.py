"""Problem loading for every dataset source, validated before any stage work starts."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Iterator

from reasonkit.data import toy
from reasonkit.data.config import DatasetConfig
from reasonkit.records import Problem, RecordError, read_jsonl_numbered, validate


def _split_file(cfg: DatasetConfig, split: str) -> Path:
    if split not in cfg.files:
        raise RecordError(f"dataset '{cfg.name}': no file for split '{split}' (dataset.files has {sorted(cfg.files)})")
    path = Path(cfg.files[split])
    if not path.exists():
        raise RecordError(f"dataset '{cfg.name}': {path}: file not found (dataset.files.{split})")
    return path


def _mapped(raw: dict[str, Any], cfg: DatasetConfig, where: str, idx: int) -> dict[str, Any]:
    f = cfg.fields
    for ours in ("prompt", "answer"):
        if f.get(ours, ours) not in raw:
            raise RecordError(f"{where}: field '{f.get(ours, ours)}': missing (expected string; dataset.fields.{ours})")
    rec = {"id": raw.get(f.get("id", "id"), f"{cfg.name}-{idx:06d}"), "prompt": raw[f.get("prompt", "prompt")],
           "answer": raw[f.get("answer", "answer")],
           "meta": {k: v for k, v in raw.items() if k not in set(f.values())}}
    if isinstance(rec["answer"], (int, float)) and not isinstance(rec["answer"], bool):
        rec["answer"] = str(rec["answer"])
    return validate(rec, Problem, where)


def problems(cfg: DatasetConfig, split: str) -> Iterator[dict[str, Any]]:
    """Stream validated problems of one split, capped at ``cfg.sizes[split]`` when set."""
    cap = cfg.sizes.get(split)
    if cfg.source == "toy":
        yield from toy.problems(split, cap if cap is not None else 1000, seed=cfg.seed)
        return
    if cfg.source == "jsonl":
        path = _split_file(cfg, split)
        rows = ((f"{path}:{ln}", raw) for ln, raw in read_jsonl_numbered(path))
    elif cfg.source == "hf":
        import datasets

        ds = datasets.load_dataset(cfg.hf_id, cfg.hf_config, split=split, revision=cfg.revision)
        rows = ((f"{cfg.hf_id}[{split}]:{i}", raw) for i, raw in enumerate(ds, 1))
    else:
        raise RecordError(f"dataset.source: expected toy, jsonl or hf, got {cfg.source!r}")
    for n, (where, raw) in enumerate(rows):
        if cap is not None and n >= cap:
            return
        yield _mapped(raw, cfg, where, n)


def check(cfg: DatasetConfig, split: str) -> dict[str, Any]:
    """Read the whole split once: schema, duplicate ids. Returns a fingerprint for hashing, so an
    edited input file gives a new artifact hash."""
    seen: set[str] = set()
    h = hashlib.sha256()
    n = 0
    for rec in problems(cfg, split):
        if rec["id"] in seen:
            raise RecordError(f"dataset '{cfg.name}' split '{split}': field 'id': duplicate id {rec['id']!r}")
        seen.add(rec["id"])
        h.update(repr((rec["id"], rec["prompt"], rec["answer"])).encode())
        n += 1
    if n == 0:
        raise RecordError(f"dataset '{cfg.name}' split '{split}': no problems")
    return {"count": n, "sha256": h.hexdigest()[:16]}


def with_instruction(cfg: DatasetConfig, prompt: str) -> str:
    return f"{prompt} {cfg.instruction}".strip() if cfg.instruction else prompt
