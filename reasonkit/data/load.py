"""Problem loading for every dataset source, validated before any stage work starts."""
from __future__ import annotations

import hashlib
import json
from itertools import islice
from pathlib import Path
from typing import Any, Iterator

from reasonkit.data import toy
from reasonkit.data.config import DatasetConfig
from reasonkit.records import InputError, Problem, RecordError, _json_type, read_input, validate


def _split_file(cfg: DatasetConfig, split: str) -> Path:
    if split not in cfg.files or cfg.files[split] in (None, ""):
        raise InputError(f"config dataset.files.{split}: not set; expected the path of the '{split}' split's "
                         f"JSONL or JSON file (dataset.files.{split}=data/{split}.jsonl)")
    return Path(cfg.files[split])


_MISSING = object()


def _lookup(raw: dict[str, Any], column: str) -> Any:
    """A column by name, or a dotted path into nested objects (``reward_model.ground_truth``,
    the way verl-style files nest the answer)."""
    if column in raw:
        return raw[column]
    node: Any = raw
    for part in column.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _field(raw: dict[str, Any], cfg: DatasetConfig, ours: str, where: str) -> Any:
    column = cfg.fields.get(ours, ours)
    value = _lookup(raw, column)
    if value is _MISSING and ours != "id":
        cols = ", ".join(list(raw)[:8]) + (" …" if len(raw) > 8 else "")
        raise RecordError(f"{where}: field '{column}': missing (expected {_EXPECTED[ours]}; "
                          f"dataset.fields.{ours}; this record has: {cols or 'no fields'})")
    return value


_EXPECTED = {"id": "a non-empty string or an integer", "prompt": "a non-empty string",
             "answer": "a non-empty string, a number or null", "meta": "an object"}


def _bad(where: str, column: str, ours: str, value: Any) -> RecordError:
    shown = json.dumps(value, ensure_ascii=False, default=str)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    kind = "empty string" if isinstance(value, str) and not value.strip() else _json_type(value)
    return RecordError(f"{where}: field '{column}': expected {_EXPECTED[ours]}, got {kind} {shown}")


def _mapped(raw: dict[str, Any], cfg: DatasetConfig, where: str, idx: int) -> dict[str, Any]:
    f = cfg.fields
    rid, prompt, answer = (_field(raw, cfg, k, where) for k in ("id", "prompt", "answer"))
    if rid is _MISSING:
        rid = f"{cfg.name}-{idx:06d}"
    elif isinstance(rid, int) and not isinstance(rid, bool):
        rid = str(rid)  # integer ids (row indices) are common; ours are strings
    elif not (isinstance(rid, str) and rid.strip()):
        raise _bad(where, f.get("id", "id"), "id", rid)
    if not (isinstance(prompt, str) and prompt.strip()):
        raise _bad(where, f.get("prompt", "prompt"), "prompt", prompt)
    if isinstance(answer, (int, float)) and not isinstance(answer, bool):
        answer = str(answer)
    elif not (answer is None or (isinstance(answer, str) and answer.strip())):
        raise _bad(where, f.get("answer", "answer"), "answer", answer)
    meta = raw.get("meta", {})
    if not isinstance(meta, dict):
        raise _bad(where, "meta", "meta", meta)
    mapped = set(f.values())
    meta = {**{k: v for k, v in raw.items() if k not in mapped and k != "meta"}, **meta}
    return validate({"id": rid, "prompt": prompt, "answer": answer, "meta": meta}, Problem, where)


def problems(cfg: DatasetConfig, split: str) -> Iterator[dict[str, Any]]:
    """Stream validated problems of one split, capped at ``cfg.sizes[split]`` when set."""
    for _, rec in located(cfg, split):
        yield rec


def located(cfg: DatasetConfig, split: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, problem)``: ``where`` is ``file:line`` for messages about the problem."""
    cap = cfg.sizes.get(split)
    if cfg.source == "toy":
        for i, rec in enumerate(toy.problems(split, cap if cap is not None else 1000, seed=cfg.seed)):
            yield f"toy[{split}]:{i}", rec
        return
    if cfg.source == "jsonl":
        rows: Iterator[tuple[str, dict[str, Any]]] = read_input(_split_file(cfg, split))
    elif cfg.source == "hf":
        import datasets

        ds = datasets.load_dataset(cfg.hf_id, cfg.hf_config, split=split, revision=cfg.revision)
        rows = ((f"{cfg.hf_id}[{split}]:{i}", raw) for i, raw in enumerate(ds, 1))
    else:
        raise InputError(f"dataset.source: expected toy, jsonl or hf, got {cfg.source!r}")
    for n, (where, raw) in enumerate(islice(rows, cap)):  # lines past the cap are not read
        yield where, _mapped(raw, cfg, where, n)


def check(cfg: DatasetConfig, split: str) -> dict[str, Any]:
    """Read the whole split once: schema, duplicate ids. Returns a fingerprint for hashing, so an
    edited input file gives a new artifact hash."""
    first: dict[str, str] = {}
    h = hashlib.sha256()
    n = 0
    for where, rec in located(cfg, split):
        if rec["id"] in first:
            raise RecordError(f"{where}: field '{cfg.fields.get('id', 'id')}': duplicate id {rec['id']!r} "
                              f"(first at {first[rec['id']]})")
        first[rec["id"]] = where
        h.update(repr((rec["id"], rec["prompt"], rec["answer"])).encode())
        n += 1
    if n == 0:
        src = cfg.files.get(split) if cfg.source == "jsonl" else cfg.hf_id
        raise InputError(f"{src}: no records (the file is empty or blank); expected at least one problem "
                         f"for dataset '{cfg.name}' split '{split}'")
    return {"count": n, "sha256": h.hexdigest()[:16]}


def with_instruction(cfg: DatasetConfig, prompt: str) -> str:
    return f"{prompt} {cfg.instruction}".strip() if cfg.instruction else prompt
