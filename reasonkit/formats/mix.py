"""``format.mix_files``: external training rows (e.g. a public SFT set SkyThought mixes in) read
from JSONL and written through the same row builder as the selected samples, after them.

Why at the format stage: the external rows skip generation and judging (they are trusted data) but
must come out in exactly the layout the trainer reads; the files' checksums enter the format
artifact's identity, so editing a file recomputes the rows.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reasonkit.records import json_objects

MIX_VERSION = "1"
# formats whose rows need only prompt and response (a pair or a critique target has no meaning here)
MIXABLE = ("chat", "sft_split", "sharegpt", "alpaca", "trl_prompt_completion", "verl")


def checksums(cfg: Any) -> dict[str, str]:
    out = {}
    for f in cfg.mix_files:
        p = Path(f)
        if not p.is_file():
            raise ValueError(f"format.mix_files: {f}: no such file")
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        out[str(f)] = h.hexdigest()
    return out


def records(cfg: Any) -> Iterator[dict[str, Any]]:
    """Sample-like records of every mix file, refusing a bad line with file, line and field."""
    fields = {"prompt": "prompt", "response": "response", **dict(cfg.mix_fields)}
    for f in cfg.mix_files:
        stem = Path(f).stem
        for i, raw in json_objects(f, ValueError):
            rec = {"id": f"mix-{stem}-{i}", "problem_id": f"mix-{stem}-{i}", "k": 0,
                   "model": f"external:{stem}", "correct": True}
            for ours in ("prompt", "response"):
                value = raw.get(fields[ours])
                if not isinstance(value, str) or not value.strip():
                    raise ValueError(f"{f}:{i}: field '{fields[ours]}' (format.mix_fields.{ours}): "
                                     f"expected a non-empty string, got {value!r}")
                rec[ours] = value
            answer_col = fields.get("answer", "answer")
            rec["answer"] = None if raw.get(answer_col) is None else str(raw[answer_col])
            yield rec


def check(cfg: Any) -> None:
    if not cfg.mix_files:
        return
    if cfg.name not in MIXABLE:
        raise ValueError(f"format.mix_files: format={cfg.name} cannot take external prompt/response rows; "
                         f"use one of {', '.join(MIXABLE)}")
    bad = set(cfg.mix_fields) - {"prompt", "response", "answer"}
    if bad:
        raise ValueError(f"format.mix_fields: unknown keys {sorted(bad)}; expected prompt, response, answer")
    checksums(cfg)
    for _ in records(cfg):  # every line checked before any stage works
        pass
