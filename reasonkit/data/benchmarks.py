"""Benchmarks as config: ``conf/benchmark/<name>.yaml`` says where the rows come from (a pinned hub
dataset, a local file in the same or another schema, or the run's own ``dataset``), how a row
becomes a problem (its ``kind``), which prompt template asks it and which judge scores it.

Why one typed spec per benchmark: paper numbers depend on details that are easy to lose in code
(the Minerva answer lives inside the solution's ``\\boxed{}``, GPQA's options must be shuffled with a
recorded seed, MMLU-Pro has ten letters), so each is written down once, hashed with the results,
and loaded by the same code on a laptop (local copy) and a cluster (hub).
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import logging
import random
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from reasonkit.records import RecordError, read_jsonl_numbered
from reasonkit.registry import Registry

# Bump when loading can turn the same source rows into different problems.
BENCHMARK_VERSION = "1"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass
class HubSource:
    id: str | None = None
    config: str | None = None
    # A commit sha pins the rows; the loader checks the cached copy is that commit.
    revision: str | None = None
    split: str = "test"


@dataclass
class LocalSource:
    # .jsonl / .json (array) / .parquet; a relative path is looked up under paths.benchmarks.
    file: str | None = None
    # Field-mapping deltas where the local copy's schema differs from the hub's.
    fields: dict[str, str] = field(default_factory=dict)
    # The local copy's answer_format when it differs (e.g. Minerva: boxed inside the solution).
    answer_format: str | None = None


@dataclass
class BenchmarkConfig:
    """Schema of the ``benchmark`` group (one YAML per benchmark)."""

    name: str = "???"
    # hub | local | dataset (the run's ``dataset`` group, its eval split)
    source: str = "hub"
    hub: HubSource = field(default_factory=HubSource)
    local: LocalSource = field(default_factory=LocalSource)
    # How a row becomes a problem: math | choice | gpqa | code | humaneval (see KINDS below).
    kind: str = "math"
    # Our name -> the source's column: id, problem, answer, choices, tests, starter_code, context...
    fields: dict[str, str] = field(default_factory=dict)
    # math: plain (the column is the answer) | boxed (last \boxed{} of the column) | gsm8k (after
    # ####) | first (first element of a list column)
    answer_format: str = "plain"
    # gpqa: options are shuffled per problem with this seed (recorded with every result).
    shuffle_seed: int = 0
    prompt: str = "boxed"
    # math | choice | code; judge_args are deltas over conf/judge/<judge>.yaml
    judge: str = "math"
    judge_args: dict[str, Any] = field(default_factory=dict)
    n: int = 1
    ks: list[int] = field(default_factory=lambda: [1])
    sampling: dict[str, Any] = field(default_factory=lambda: {"temperature": 0.0, "top_p": 1.0, "max_tokens": 4096})
    # Fields (our names, kept in each problem's meta) to break results down by, e.g. subject, level.
    breakdown: list[str] = field(default_factory=list)
    # First N problems only (null: all).
    limit: int | None = None


def benchmark_dir() -> Path:
    from reasonkit.config import CONF_DIR

    return CONF_DIR / "benchmark"


def known() -> list[str]:
    return sorted(p.stem for p in benchmark_dir().glob("*.yaml"))


def load_spec(ref: str | Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> BenchmarkConfig:
    """A benchmark by name (``conf/benchmark/<name>.yaml``) or YAML path, with deltas merged on
    top. A misspelt key fails here with the key's name.

    Cached by (file and its mtime, or the mapping's JSON) and the deltas' JSON: the eval grid
    asks for every spec several times per run (plan, validate, each cell) and a structured
    OmegaConf merge costs tens of milliseconds; each call gets its own copy."""
    if isinstance(ref, str):
        path = Path(ref) if ref.endswith((".yaml", ".yml")) else benchmark_dir() / f"{ref}.yaml"
        if not path.exists():
            raise ValueError(f"eval.benchmarks: unknown benchmark {ref!r} (no {path}); expected one of "
                             f"{', '.join(known())}, 'dataset' or a YAML path")
        key: tuple = ("file", str(path.absolute()), path.stat().st_mtime_ns, ref)
    try:
        if not isinstance(ref, str):
            key = ("map", json.dumps(dict(ref), sort_keys=True))
        return copy.deepcopy(_load_spec(key, json.dumps(dict(overrides or {}), sort_keys=True)))
    except TypeError:  # not JSON (e.g. a live OmegaConf node): merge uncached
        return _merge_spec(ref, OmegaConf.load(path) if isinstance(ref, str) else OmegaConf.create(dict(ref)), overrides)


@lru_cache(maxsize=512)
def _load_spec(key: tuple, overrides_json: str) -> BenchmarkConfig:
    node = OmegaConf.load(key[1]) if key[0] == "file" else OmegaConf.create(json.loads(key[1]))
    return _merge_spec(key[3] if key[0] == "file" else None, node, json.loads(overrides_json))


def _merge_spec(ref: Any, node: Any, overrides: Mapping[str, Any] | None) -> BenchmarkConfig:
    try:
        merged = OmegaConf.merge(OmegaConf.structured(BenchmarkConfig), node, overrides or {})
    except OmegaConfBaseException as e:  # ValidationError / ConfigKeyError: name the key
        raise ValueError(f"benchmark {ref if isinstance(ref, str) else node.get('name')!r}: {e}".splitlines()[0]) from None
    return OmegaConf.to_object(merged)  # type: ignore[return-value]


# ----------------------------------------------------------------------------- sources

SOURCES: Registry[Callable[..., Iterator[tuple[str, dict[str, Any]]]]] = Registry("benchmark.source")


@SOURCES.register("local")
def local_rows(spec: BenchmarkConfig, root: str | Path = ".", **_: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, row) from a local file; ``where`` is ``file:line`` for error messages."""
    if not spec.local.file:
        raise RecordError(f"benchmark '{spec.name}': source=local but local.file is not set")
    path = Path(spec.local.file)
    if not path.is_absolute():
        path = Path(root) / path
    if not path.exists():
        raise RecordError(f"benchmark '{spec.name}': {path}: file not found (benchmark.local.file, under paths.benchmarks)")
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        for i, row in enumerate(pq.read_table(path).to_pylist(), 1):
            yield f"{path}:row {i}", row
    elif path.suffix == ".json":
        data = json.loads(path.read_text())
        if not isinstance(data, list):
            raise RecordError(f"{path}: expected a JSON array of objects, got {type(data).__name__}")
        for i, row in enumerate(data, 1):
            yield f"{path}:item {i}", row
    else:
        for ln, row in read_jsonl_numbered(path):
            yield f"{path}:{ln}", row


def _cached_commit(ds: Any) -> str | None:
    """The commit a loaded hub dataset came from: datasets names its cache folder after it."""
    files = getattr(ds, "cache_files", None) or []
    return Path(files[0]["filename"]).parent.name if files else None


_WARNED_UNPINNED: set[tuple[str, str | None]] = set()


def _warn_unpinned(name: str, hub_id: str, revision: str | None, commit: str | None) -> None:
    """Once per (dataset, revision): a branch (main, refs/convert/parquet) can move, so the rows
    behind a number are known only from the commit recorded with it, not from the config."""
    if (hub_id, revision) in _WARNED_UNPINNED:
        return
    _WARNED_UNPINNED.add((hub_id, revision))
    logging.getLogger(__name__).warning(
        "benchmark '%s': hub dataset %s at revision %r is unpinned (not a commit sha); this run loaded commit %s "
        "(recorded with the results); pin benchmark.hub.revision to it", name, hub_id, revision, commit)


@SOURCES.register("hub")
def hub_rows(spec: BenchmarkConfig, info: dict[str, Any] | None = None, **_: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Rows of a pinned hub dataset through ``datasets.load_dataset`` (online, or offline from the
    local cache with ``HF_HUB_OFFLINE=1``). Offline, ``datasets`` serves whatever commit is
    cached, so a pinned sha is checked against the cache folder's commit here."""
    import datasets

    h = spec.hub
    if not h.id:
        raise RecordError(f"benchmark '{spec.name}': source=hub but hub.id is not set")
    try:
        ds = datasets.load_dataset(h.id, h.config, split=h.split, revision=h.revision)
    except (ConnectionError, FileNotFoundError, ValueError) as e:
        raise RecordError(f"benchmark '{spec.name}': hub dataset {h.id} (config {h.config}, split {h.split}, "
                          f"revision {h.revision}) could not be loaded: {str(e).splitlines()[0]}") from None
    commit = _cached_commit(ds)
    if h.revision and re.fullmatch(r"[0-9a-f]{40}", h.revision) and commit and commit != h.revision:
        raise RecordError(f"benchmark '{spec.name}': hub.revision pins {h.revision} but the copy loaded is "
                          f"commit {commit}; fetch the pinned revision or change benchmark.hub.revision")
    if not (h.revision and re.fullmatch(r"[0-9a-f]{40}", h.revision)):
        _warn_unpinned(spec.name, h.id, h.revision, commit)
    if info is not None:
        info["commit"] = commit
    for i, row in enumerate(ds, 1):
        yield f"{h.id}[{h.split}]:row {i}", row


@SOURCES.register("dataset")
def dataset_rows(spec: BenchmarkConfig, dataset: Any = None, **_: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """The run's ``dataset`` group, its test split, already mapped to problems."""
    from reasonkit.data import load as data

    if dataset is None:
        raise RecordError(f"benchmark '{spec.name}': source=dataset needs the run's dataset config")
    split = spec.hub.split
    for i, p in enumerate(data.problems(dataset, split), 1):
        yield f"dataset '{dataset.name}'[{split}]:{i}", {"id": p["id"], "problem": p["prompt"], "answer": p["answer"],
                                                         **(p.get("meta") or {})}


# ----------------------------------------------------------------------------- kinds

@dataclass
class Mapped:
    """One source row, ready to render: question text, gold answer, template extras, meta."""

    problem: str
    answer: str | None
    extras: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


# Code kinds live in benchmark_code.py (imported on first use).
KINDS: Registry[Callable[[dict[str, Any], BenchmarkConfig, dict[str, str], str], Mapped]] = Registry(
    "benchmark.kind", "reasonkit.data", {"code": "benchmark_code", "humaneval": "benchmark_code"})


def _get(row: dict[str, Any], fields: dict[str, str], ours: str, where: str, required: bool = True) -> Any:
    col = fields.get(ours, ours)
    if col not in row:
        if not required:
            return None
        raise RecordError(f"{where}: field '{col}': missing (benchmark.fields.{ours}; row has "
                          f"{', '.join(sorted(map(str, row)))[:200]})")
    return row[col]


def _text(v: Any, where: str, col: str) -> str:
    if not isinstance(v, str):
        raise RecordError(f"{where}: field '{col}': expected string, got {type(v).__name__} {json.dumps(v, default=str)[:60]}")
    return v


def _answer(raw: Any, fmt: str, where: str, col: str) -> str | None:
    from reasonkit.judging.extract import gsm8k, last_boxed

    if fmt == "first":
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError:
                raw = [raw]
        if not isinstance(raw, list) or not raw:
            raise RecordError(f"{where}: field '{col}': expected a non-empty list (answer_format first)")
        raw = raw[0]
    if raw is None:
        return None
    text = str(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else raw
    if not isinstance(text, str):
        raise RecordError(f"{where}: field '{col}': expected string or number, got {type(raw).__name__}")
    if fmt == "boxed":
        found = last_boxed(text)
        if found is None:
            raise RecordError(f"{where}: field '{col}': no \\boxed{{}} answer in the solution (answer_format boxed)")
        return found.strip()
    if fmt == "gsm8k":
        found = gsm8k(text)
        if found is None:
            raise RecordError(f"{where}: field '{col}': no '#### <answer>' line (answer_format gsm8k)")
        return found.strip()
    if fmt not in ("plain", "first"):
        raise RecordError(f"benchmark.answer_format: expected plain, boxed, gsm8k or first, got {fmt!r}")
    return text.strip()


def _context(row: dict[str, Any], fields: dict[str, str], problem: str) -> str:
    ctx = row.get(fields["context"]) if "context" in fields else None
    return f"{ctx}\n\n{problem}" if isinstance(ctx, str) and ctx.strip() and ctx != "None" else problem


@KINDS.register("math")
def math_row(row: dict[str, Any], spec: BenchmarkConfig, fields: dict[str, str], where: str) -> Mapped:
    problem = _context(row, fields, _text(_get(row, fields, "problem", where), where, fields.get("problem", "problem")))
    answer = _answer(_get(row, fields, "answer", where), spec.answer_format, where, fields.get("answer", "answer"))
    return Mapped(problem, answer)


def _choices(v: Any, where: str, col: str) -> list[str]:
    if isinstance(v, str):  # some copies store the list as its Python/JSON text
        try:
            v = json.loads(v)
        except json.JSONDecodeError:
            import ast

            try:
                v = ast.literal_eval(v)
            except (ValueError, SyntaxError):
                pass
    if not isinstance(v, list) or not v or not all(isinstance(c, (str, int, float)) for c in v):
        raise RecordError(f"{where}: field '{col}': expected a non-empty list of option texts")
    return [str(c) for c in v]


def _letter(ans: Any, n: int, where: str, col: str) -> str:
    if isinstance(ans, int) and not isinstance(ans, bool) and 0 <= ans < n:
        return LETTERS[ans]
    s = str(ans).strip().strip("()").upper()
    if len(s) == 1 and s in LETTERS[:n]:
        return s
    if s.isdigit() and int(s) < n:
        return LETTERS[int(s)]
    raise RecordError(f"{where}: field '{col}': expected a letter A-{LETTERS[n - 1]} or a 0-based index, got {ans!r}")


@KINDS.register("choice")
def choice_row(row: dict[str, Any], spec: BenchmarkConfig, fields: dict[str, str], where: str) -> Mapped:
    """MMLU / MMLU-STEM / MMLU-Pro: a list of options and the right one as index or letter."""
    problem = _text(_get(row, fields, "problem", where), where, fields.get("problem", "problem"))
    choices = _choices(_get(row, fields, "choices", where), where, fields.get("choices", "choices"))
    gold = _letter(_get(row, fields, "answer", where), len(choices), where, fields.get("answer", "answer"))
    return Mapped(problem, gold, {"choices": choices, "letters": LETTERS[:len(choices)]})


@KINDS.register("gpqa")
def gpqa_row(row: dict[str, Any], spec: BenchmarkConfig, fields: dict[str, str], where: str) -> Mapped:
    """GPQA: the correct answer and three distractors in their own columns, shuffled per problem
    by (shuffle_seed, problem id) so the order is reproducible and recorded in the meta."""
    problem = _text(_get(row, fields, "problem", where), where, fields.get("problem", "problem"))
    cols = [fields.get("correct", "Correct Answer")] + [fields.get(f"incorrect{i}", f"Incorrect Answer {i}") for i in (1, 2, 3)]
    opts = []
    for c in cols:
        if c not in row:
            raise RecordError(f"{where}: field '{c}': missing (gpqa needs the correct and three incorrect answers)")
        opts.append(_text(row[c], where, c).strip())
    pid = str(row.get(fields.get("id", "id"), problem))
    order = list(range(4))
    random.Random(f"{spec.shuffle_seed}:{pid}").shuffle(order)
    choices = [opts[i] for i in order]
    return Mapped(problem, LETTERS[order.index(0)], {"choices": choices, "letters": LETTERS[:4]},
                  {"shuffle_seed": spec.shuffle_seed, "option_order": order})


# ----------------------------------------------------------------------------- problems

def _fields(spec: BenchmarkConfig) -> dict[str, str]:
    f = dict(spec.fields)
    if spec.source == "local":
        f.update(spec.local.fields)
    if spec.source == "dataset":
        f = {"id": "id", "problem": "problem", "answer": "answer"}
    return f


def problems(spec: BenchmarkConfig, *, root: str | Path = ".", dataset: Any = None, template_vars: Mapping[str, Any] | None = None,
             prompt: str | None = None, limit: int | None = None, info: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Validated problems: ``prompt`` is the rendered text the model is asked, ``answer`` the gold
    (``None`` for code, whose tests are in ``meta.tests``), ``meta`` the breakdown fields."""
    from reasonkit.prompts import load_prompt, render

    if spec.source == "local" and spec.local.answer_format:
        spec = dataclasses.replace(spec, answer_format=spec.local.answer_format)
    rows = SOURCES.get(spec.source)(spec, root=root, dataset=dataset, info=info)
    to_problem = KINDS.get(spec.kind)
    fields = _fields(spec)
    tmpl = load_prompt(prompt or spec.prompt)
    cap = limit if limit is not None else spec.limit
    seen: set[str] = set()
    for i, (where, row) in enumerate(rows):
        if cap is not None and i >= cap:
            return
        if not isinstance(row, dict):
            raise RecordError(f"{where}: expected an object, got {type(row).__name__}")
        m = to_problem(row, spec, fields, where)
        rid = row.get(fields.get("id", "id"))
        pid = f"{spec.name}-{rid if rid is not None and str(rid) != '' else i}"
        if pid in seen:
            raise RecordError(f"{where}: field '{fields.get('id', 'id')}': duplicate id {rid!r}")
        seen.add(pid)
        meta = dict(m.meta)
        for b in spec.breakdown:
            v = _get(row, fields, b, where, required=False)
            meta[b] = None if v is None else str(v)
        text = render(tmpl, problem=m.problem, row=row, **{"choices": [], "letters": "", **m.extras, **(template_vars or {})})
        yield {"id": pid, "prompt": text, "answer": m.answer, "meta": meta}


def fingerprint(spec: BenchmarkConfig, **kw: Any) -> dict[str, Any]:
    """Reads every problem once (bad rows fail before any work) and digests what the model is
    asked and scored against, so an edited file or cache gives new artifacts."""
    h = hashlib.sha256()
    n = 0
    info: dict[str, Any] = {}
    for p in problems(spec, info=info, **kw):
        h.update(json.dumps([p["id"], p["prompt"], p["answer"], p["meta"]], sort_keys=True, default=str).encode())
        n += 1
    if n == 0:
        raise RecordError(f"benchmark '{spec.name}': no problems")
    return {"count": n, "sha256": h.hexdigest()[:16], **({"commit": info["commit"]} if info.get("commit") else {})}
