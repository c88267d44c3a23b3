"""Record types shared by every stage, and the one place input files are validated.

Records travel as JSON objects in JSONL shards. Dataclasses give them a schema so that a bad
input line is refused with ``file:line: field: expected …`` before any stage work starts, while
stages stream plain dicts (cheap, and extra fields added by later stages survive round trips).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, get_type_hints


class RecordError(ValueError):
    """A record that does not match its schema; the message names file, line and field."""


@dataclass
class Problem:
    """One task item: what a teacher is asked and what counts as right."""

    id: str
    prompt: str
    answer: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Sample:
    """One response to one problem. ``id`` is ``<problem_id>_<k>`` so shards can be merged and
    resumed by id alone."""

    id: str
    problem_id: str
    k: int
    prompt: str
    answer: str | None
    response: str
    model: str
    sampling: dict[str, Any]
    seed: int
    finish_reason: str | None = None
    n_prompt_tokens: int | None = None
    n_completion_tokens: int | None = None
    extracted: str | None = None
    correct: bool | None = None
    judge: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def sample_id(problem_id: str, k: int) -> str:
    return f"{problem_id}_{k}"


_TYPES = {str: "string", int: "integer", bool: "boolean", dict: "object", float: "number"}


def _check(value: Any, hint: Any) -> bool:
    """Tiny runtime check for the handful of annotation shapes used above."""
    origin = getattr(hint, "__origin__", None)
    args = getattr(hint, "__args__", ())
    if hint is Any:
        return True
    if origin is dict or hint is dict:
        return isinstance(value, dict)
    if args and type(None) in args:  # X | None
        return value is None or any(_check(value, a) for a in args if a is not type(None))
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, hint)


def _describe(hint: Any) -> str:
    args = getattr(hint, "__args__", ())
    if getattr(hint, "__origin__", None) is dict:
        return "object"
    if args:
        return " or ".join(_describe(a) for a in args if a is not type(None)) + (
            " or null" if type(None) in args else "")
    if getattr(hint, "__origin__", None) is dict:
        return "object"
    return _TYPES.get(hint, getattr(hint, "__name__", str(hint)))


def validate(obj: Any, cls: type, where: str) -> dict[str, Any]:
    """Check one decoded JSON value against a record dataclass; return it as a dict.

    Unknown fields are kept (later stages add their own), missing required fields and wrong types
    are errors naming ``where`` (``file:line``) and the field.
    """
    if not isinstance(obj, dict):
        raise RecordError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    hints = get_type_hints(cls)
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if f.name not in obj:
            if required:
                raise RecordError(f"{where}: field '{f.name}': missing (expected {_describe(hints[f.name])})")
            continue
        if not _check(obj[f.name], hints[f.name]):
            raise RecordError(
                f"{where}: field '{f.name}': expected {_describe(hints[f.name])}, "
                f"got {type(obj[f.name]).__name__} {json.dumps(obj[f.name])[:60]}")
    return obj


def read_jsonl_numbered(path: str | Path, cls: type | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Stream (line number, object) from a JSONL file, validating against ``cls`` when given."""
    path = Path(path)
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise RecordError(f"{path}:{lineno}: malformed JSON ({e.msg} at column {e.colno})") from None
            yield lineno, (validate(obj, cls, f"{path}:{lineno}") if cls else obj)


def read_jsonl(path: str | Path, cls: type | None = None) -> Iterator[dict[str, Any]]:
    for _, obj in read_jsonl_numbered(path, cls):
        yield obj


def validate_file(path: str | Path, cls: type, id_field: str = "id") -> int:
    """Read a whole input file once, before work starts: schema and duplicate ids."""
    seen: set[str] = set()
    n = 0
    for lineno, rec in read_jsonl_numbered(path, cls):
        rid = rec.get(id_field)
        if rid in seen:
            raise RecordError(f"{path}:{lineno}: field '{id_field}': duplicate id {rid!r}")
        seen.add(rid)
        n += 1
    return n


def dumps(rec: dict[str, Any]) -> str:
    return json.dumps(rec, ensure_ascii=False, sort_keys=False) + "\n"
