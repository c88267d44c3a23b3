"""Record types shared by every stage, and the one place input files are validated.

Records travel as JSON objects in JSONL shards. Dataclasses give them a schema so that a bad
input line is refused with ``file:line: field: expected …`` before any stage work starts, while
stages stream plain dicts (cheap, and extra fields added by later stages survive round trips).
"""
from __future__ import annotations

import dataclasses
import errno
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Iterator, get_type_hints

BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class InputError(ValueError):
    """A user's mistake (a bad file, field or config value). Its message is complete on one line
    (file, line, field, what was expected), so the CLI prints it without a traceback."""


class RecordError(InputError):
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
        raise RecordError(f"{where}: expected a JSON object, got {_json_type(obj)}")
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


def open_input(path: str | Path) -> BinaryIO:
    """Open a user-supplied file for reading, turning each OS failure into one line that says
    what was expected (a file that is not there, a folder, no read permission)."""
    path = Path(path)
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found (expected a JSONL or JSON file)") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory (expected a JSONL or JSON file)") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied (the file must be readable by this user)") from None
    except OSError as e:
        raise InputError(f"{path}: cannot open ({os.strerror(e.errno or errno.EIO)})") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (use null or a string)")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def _decode(raw: bytes, path: Path, lineno: int, offset: int) -> str:
    """UTF-8 text of one line; a bad byte is named by line and by byte offset in the file (what
    ``hexdump``/``dd`` need), since an editor may not show it."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RecordError(f"{path}:{lineno}: invalid UTF-8 at byte offset {offset + e.start} "
                          f"(byte 0x{raw[e.start]:02x}); expected UTF-8 text") from None


def _loads(text: str, where: str) -> Any:
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as e:
        raise RecordError(f"{where}: malformed JSON ({e.msg} at column {e.colno})") from None
    except ValueError as e:  # NaN / Infinity
        raise RecordError(f"{where}: malformed JSON ({e})") from None


def _lines(fh: BinaryIO, path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of every non-blank line; BOM, CRLF and a missing final newline are
    what editors and Windows tools write, so they are read, not refused."""
    offset = 0
    for lineno, raw in enumerate(fh, 1):
        if lineno == 1 and raw.startswith(UTF16_BOMS):
            raise RecordError(f"{path}:1: UTF-16 text (byte-order mark 0x{raw[:2].hex()}); expected UTF-8")
        text = _decode(raw, path, lineno, offset)
        offset += len(raw)
        text = text.lstrip("\ufeff")  # a BOM, also on a later line of concatenated files
        if text.strip():
            yield lineno, text


def _is_array(fh: BinaryIO) -> bool:
    head = fh.read(4096)
    fh.seek(0)
    return head.removeprefix(BOM).lstrip().startswith(b"[")


def _array(fh: BinaryIO, path: Path) -> Iterator[tuple[str, Any]]:
    """Elements of a file holding one JSON array, each located by line and element index.

    The file is read whole: an array has no line boundaries to stream by, and the dataset files
    that ship this way (a few 10k problems) are read whole by generate anyway.
    """
    data = fh.read()
    start = len(BOM) if data.startswith(BOM) else 0
    try:
        text = data[start:].decode("utf-8")
    except UnicodeDecodeError as e:
        off = start + e.start
        lineno = data.count(b"\n", 0, off) + 1
        raise RecordError(f"{path}:{lineno}: invalid UTF-8 at byte offset {off} "
                          f"(byte 0x{data[off]:02x}); expected UTF-8 text") from None
    del data
    pos, line, seen = text.index("[") + 1, 1, 0  # ``line`` counts newlines up to ``seen``

    def line_at(p: int) -> int:
        nonlocal line, seen
        line += text.count("\n", seen, p)
        seen = p
        return line

    def skip_ws(p: int) -> int:
        while p < len(text) and text[p] in " \t\r\n":
            p += 1
        return p

    i = 0
    pos = skip_ws(pos)
    if pos < len(text) and text[pos] == "]":
        pos += 1
    else:
        while True:
            where = f"{path}:{line_at(pos)}: element {i}"
            if pos >= len(text):
                raise RecordError(f"{where}: malformed JSON (the array is not closed with ']')")
            try:
                obj, end = _DECODER.raw_decode(text, pos)
            except json.JSONDecodeError as e:
                raise RecordError(f"{path}:{line_at(e.pos)}: element {i}: malformed JSON ({e.msg})") from None
            except ValueError as e:
                raise RecordError(f"{where}: malformed JSON ({e})") from None
            yield where, obj
            i += 1
            pos = skip_ws(end)
            if pos < len(text) and text[pos] == ",":
                pos = skip_ws(pos + 1)
                if pos < len(text) and text[pos] == "]":
                    raise RecordError(f"{path}:{line_at(pos)}: element {i}: malformed JSON "
                                      "(trailing comma before ']')")
                continue
            if pos < len(text) and text[pos] == "]":
                pos += 1
                break
            if pos >= len(text):
                raise RecordError(f"{path}:{line_at(end)}: after element {i - 1}: malformed JSON "
                                  "(the array is not closed with ']')")
            raise RecordError(f"{path}:{line_at(pos)}: after element {i - 1}: malformed JSON "
                              "(expected ',' or ']')")
    if skip_ws(pos) < len(text):
        raise RecordError(f"{path}:{line_at(skip_ws(pos))}: malformed JSON (extra data after the array)")


def _text_ok(obj: dict[str, Any], where: str) -> None:
    """JSON allows lone UTF-16 surrogate escapes (``"\\ud800"``) that no UTF-8 file can hold:
    refuse them here rather than when a stage writes the record."""
    for k, v in obj.items():
        try:
            json.dumps(v, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise RecordError(f"{where}: field '{k}': invalid text (a lone surrogate escape such as "
                              "\\ud800); expected valid Unicode") from None


def read_input(path: str | Path, cls: type | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """Stream ``(where, object)`` from a user's data file: JSON lines, or one JSON array in a
    ``.json`` file. ``where`` is ``file:line`` (plus ``element i`` in an array) for messages."""
    path = Path(path)
    with open_input(path) as fh:
        try:
            if path.suffix.lower() == ".json" and _is_array(fh):
                rows: Iterator[tuple[str, Any]] = _array(fh, path)
            else:
                rows = ((f"{path}:{ln}", _loads(text, f"{path}:{ln}")) for ln, text in _lines(fh, path))
            for where, obj in rows:
                if isinstance(obj, list) and path.suffix.lower() != ".json":
                    raise RecordError(f"{where}: expected a JSON object, got an array (a file holding one "
                                      "JSON array must be named *.json)")
                if not isinstance(obj, dict):
                    raise RecordError(f"{where}: expected a JSON object, got {_json_type(obj)}")
                _text_ok(obj, where)
                yield where, (validate(obj, cls, where) if cls else obj)
        except IsADirectoryError:  # some systems open a directory and fail on read
            raise InputError(f"{path}: is a directory (expected a JSONL or JSON file)") from None
        except OSError as e:
            raise InputError(f"{path}: cannot read ({os.strerror(e.errno or errno.EIO)})") from None


def _json_type(v: Any) -> str:
    return {str: "string", bool: "boolean", int: "number", float: "number", list: "array",
            dict: "object", type(None): "null"}.get(type(v), type(v).__name__)


def read_jsonl_numbered(path: str | Path, cls: type | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Stream (line number, object) from a JSONL file, validating against ``cls`` when given."""
    path = Path(path)
    with open_input(path) as fh:
        for lineno, text in _lines(fh, path):
            obj = _loads(text, f"{path}:{lineno}")
            yield lineno, (validate(obj, cls, f"{path}:{lineno}") if cls else obj)


def json_objects(path: str | Path, error: type[Exception] = RecordError) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of a JSONL file, for readers with their own field rules (dynamics
    pools, mixed-in training rows): the same line handling as every input (BOM, CRLF, blank
    lines, bad UTF-8 named by line), and a line that is not an object refused in one line."""
    path = Path(path)
    with open_input(path) as fh:
        for lineno, text in _lines(fh, path):
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as e:
                raise error(f"{path}:{lineno}: not a JSON object ({e.msg})") from None
            if not isinstance(obj, dict):
                raise error(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
            yield lineno, obj


def read_jsonl(path: str | Path, cls: type | None = None) -> Iterator[dict[str, Any]]:
    for _, obj in read_jsonl_numbered(path, cls):
        yield obj


def validate_file(path: str | Path, cls: type, id_field: str = "id") -> int:
    """Read a whole input file once, before work starts: schema and duplicate ids."""
    seen: dict[Any, str] = {}
    n = 0
    for where, rec in read_input(path, cls):
        rid = rec.get(id_field)
        if rid in seen:
            raise RecordError(f"{where}: field '{id_field}': duplicate id {rid!r} (first at {seen[rid]})")
        seen[rid] = where
        n += 1
    return n


def dumps(rec: dict[str, Any]) -> str:
    return json.dumps(rec, ensure_ascii=False, sort_keys=False) + "\n"


class SeenIds:
    """Ids seen so far in a stream, at ~8 bytes each (a Python set of strings costs ~90).

    Why: stages check that a problem's records are consecutive by remembering every problem id,
    which must not make memory grow like the data. Ids are kept as 64-bit BLAKE2b digests: a
    false "seen" needs two ids of one run to share a digest (p ≈ n²/2⁶⁵, ~3e-8 at a million).
    Recent digests sit in a small set; every ``flush_at`` of them are merged into a sorted numpy
    array that is searched by bisection.
    """

    def __init__(self, flush_at: int = 1 << 14):
        import numpy as np

        self._np = np
        self._sorted = np.empty(0, dtype=np.uint64)
        self._recent: set[int] = set()
        self._flush_at = flush_at

    @staticmethod
    def _digest(key: str) -> int:
        import hashlib

        return int.from_bytes(hashlib.blake2b(str(key).encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")

    def __contains__(self, key: str) -> bool:
        h = self._digest(key)
        if h in self._recent:
            return True
        a = self._sorted
        i = int(a.searchsorted(self._np.uint64(h)))
        return i < len(a) and int(a[i]) == h

    def add(self, key: str) -> None:
        self._recent.add(self._digest(key))
        if len(self._recent) >= self._flush_at:
            np = self._np
            new = np.fromiter(self._recent, dtype=np.uint64, count=len(self._recent))
            self._sorted = np.union1d(self._sorted, new)
            self._recent = set()
