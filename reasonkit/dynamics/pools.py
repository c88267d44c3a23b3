"""Typed sample pools for the dynamics stage: each source yields ``{id, type, prompt, response}``.

A pool's random subset is chosen by a seeded hash of each sample id (the ``n`` smallest), so it is
the same subset at every checkpoint and in every rerun, and it streams without loading the source.
"""
from __future__ import annotations

import hashlib
import heapq
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from reasonkit.pipeline.artifacts import Artifact
from reasonkit.records import json_objects
from reasonkit.registry import Registry

Source = Callable[[Any, dict[str, Artifact]], Iterator[dict[str, Any]]]
SOURCES: Registry[Source] = Registry("dynamics.pools.source")
# Input artifacts each source reads (the stage's ``needs``).
NEEDS = {"selected": "select", "judged": "judge", "eval": "eval", "file": None}


class PoolError(ValueError):
    """Bad pool input: one line naming file, line, field and what was expected."""


def _subset(records: Iterable[dict[str, Any]], n: int | None, seed: int) -> list[dict[str, Any]]:
    if n is None:
        return list(records)
    key = lambda r: hashlib.sha256(f"{seed}|{r['id']}".encode()).hexdigest()  # noqa: E731
    return sorted(heapq.nsmallest(n, records, key=key), key=lambda r: r["id"])


def _keep(pool: Any, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for r in records:
        if pool.correct is not None and bool(r.get("correct")) != pool.correct:
            continue
        if isinstance(r.get("prompt"), str) and isinstance(r.get("response"), str):
            yield r


@SOURCES.register("selected")
def selected(pool: Any, inputs: dict[str, Artifact]) -> Iterator[dict[str, Any]]:
    """What the select stage chose for training (preference rows contribute their chosen side)."""
    def rows():
        for r in inputs["select"].records():
            if "response" not in r and isinstance(r.get("chosen"), str):
                r = {**r, "response": r["chosen"]}
            yield r
    yield from _subset(_keep(pool, rows()), pool.n, pool.seed)


@SOURCES.register("judged")
def judged(pool: Any, inputs: dict[str, Artifact]) -> Iterator[dict[str, Any]]:
    yield from _subset(_keep(pool, inputs["judge"].records()), pool.n, pool.seed)


@SOURCES.register("eval")
def eval_answers(pool: Any, inputs: dict[str, Artifact]) -> Iterator[dict[str, Any]]:
    """One eval row's sampled answers (e.g. the base student's own answers)."""
    path = inputs["eval"].path / f"samples-{pool.row}.jsonl"
    if not path.exists():
        have = sorted(p.stem.removeprefix("samples-") for p in inputs["eval"].path.glob("samples-*.jsonl"))
        raise PoolError(f"dynamics.pools: source=eval row={pool.row!r}: no {path.name} in {inputs['eval'].path} "
                        f"(rows there: {have})")
    from reasonkit.records import read_jsonl

    yield from _subset(_keep(pool, read_jsonl(path)), pool.n, pool.seed)


def read_pool_file(path: Path, typed: bool) -> list[dict[str, Any]]:
    """Check every line before any scoring: prompt, response (and type, unless the pool sets one)
    must be strings; ids default to the line number."""
    out = []
    fields = ("prompt", "response") + (("type",) if typed else ())
    for i, r in json_objects(path, PoolError):
        for f in fields:
            if not isinstance(r.get(f), str) or not r[f]:
                raise PoolError(f"{path}:{i}: field '{f}': expected a non-empty string, got {r.get(f)!r}")
        out.append({**r, "id": str(r.get("id", f"line{i}"))})
    return out


@SOURCES.register("file")
def from_file(pool: Any, inputs: dict[str, Artifact]) -> Iterator[dict[str, Any]]:
    if not pool.path:
        raise PoolError("dynamics.pools: source=file needs path=<a JSONL file with prompt, response, type>")
    path = Path(pool.path)
    if not path.is_file():
        raise PoolError(f"dynamics.pools: source=file path={path}: no such file")
    yield from _subset(_keep(pool, read_pool_file(path, typed=pool.type is None)), pool.n, pool.seed)


def build_pool(pools: list[Any], inputs: dict[str, Artifact]) -> list[dict[str, Any]]:
    """All pools as one list of ``{id: "<type>/<id>", type, prompt, response, source_id}``."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for pool in pools:
        for r in SOURCES.get(pool.source)(pool, inputs):
            typ = pool.type or r.get("type") or pool.source
            rid = f"{typ}/{r['id']}"
            if rid in seen:
                continue
            seen.add(rid)
            out.append({"id": rid, "type": typ, "prompt": r["prompt"], "response": r["response"],
                        "source_id": r["id"]})
    return out


def file_digest(path: str | None) -> str | None:
    """Content hash of a pool file, so an edited file gives a new dynamics artifact."""
    if not path or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
