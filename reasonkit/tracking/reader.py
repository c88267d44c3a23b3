"""Read an offline W&B run back: run metadata, config, history, summary, exit code, tables.

wandb 0.31 writes offline runs only as ``<dir>/wandb/offline-run-*/run-<id>.wandb`` (no config or
summary files) and ships no reader, so tests that must assert what was logged parse that file with
wandb's own protobuf messages (``wandb.proto.wandb_internal_pb2.Record``).

File layout (LevelDB-log style, as written by wandb-core): a 7-byte header ``:W&B`` + magic
``0xBEE1`` (uint16 LE) + version 0; then 32 KiB blocks of chunks, each chunk a 7-byte header
(CRC-32 of type byte + payload, uint32 LE; payload length, uint16 LE; type: 1 full, 2 first,
3 middle, 4 last) and its payload. A block tail shorter than a chunk header is zero padding. A
record is one full chunk or first + middles + last; its bytes are one serialized ``Record``.
"""
from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

HEADER = b":W&B" + struct.pack("<HB", 0xBEE1, 0)
BLOCK = 32 * 1024
CHUNK_HEADER = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


class CorruptRunFile(ValueError):
    pass


def iter_record_bytes(path: str | Path) -> Iterator[bytes]:
    """Yield each record's serialized bytes. A torn record at the end (run still writing or
    killed) ends the iteration; a bad checksum anywhere else raises."""
    data = Path(path).read_bytes()
    if data[: len(HEADER)] != HEADER:
        raise CorruptRunFile(f"{path}: not a W&B run file (header {data[:7]!r})")
    pos = len(HEADER)
    pending: bytearray | None = None
    while pos + CHUNK_HEADER <= len(data):
        left_in_block = BLOCK - pos % BLOCK
        if left_in_block < CHUNK_HEADER:  # zero padding to the next block
            pos += left_in_block
            continue
        crc, length, kind = struct.unpack_from("<IHB", data, pos)
        start = pos + CHUNK_HEADER
        payload = data[start:start + length]
        if crc == 0 and length == 0 and kind == 0:  # zero-filled tail of a preallocated block
            pos += left_in_block
            continue
        if len(payload) < length:
            return  # torn final chunk
        if zlib.crc32(bytes([kind]) + payload) & 0xFFFFFFFF != crc:
            raise CorruptRunFile(f"{path}: checksum mismatch in chunk at byte {pos}")
        pos = start + length
        if kind == FULL:
            yield bytes(payload)
        elif kind == FIRST:
            pending = bytearray(payload)
        elif kind in (MIDDLE, LAST):
            if pending is None:
                raise CorruptRunFile(f"{path}: continuation chunk without a first chunk at byte {pos}")
            pending += payload
            if kind == LAST:
                yield bytes(pending)
                pending = None
        else:
            raise CorruptRunFile(f"{path}: unknown chunk type {kind} at byte {pos}")


def iter_records(path: str | Path) -> Iterator[Any]:
    from wandb.proto import wandb_internal_pb2 as pb

    for raw in iter_record_bytes(path):
        rec = pb.Record()
        rec.ParseFromString(raw)
        yield rec


def _set(d: dict[str, Any], key: str, nested: list[str], value: Any) -> None:
    path = list(nested) if nested else [key]
    for k in path[:-1]:
        d = d.setdefault(k, {})
    d[path[-1]] = value


def _item_value(item: Any) -> Any:
    return json.loads(item.value_json) if item.value_json else None


@dataclass
class OfflineRun:
    """What one run file holds, in the shape a test asserts on."""

    path: Path                          # run-<id>.wandb
    run_id: str = ""
    project: str = ""
    entity: str = ""
    group: str = ""
    job_type: str = ""
    name: str = ""
    tags: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    exit_code: int | None = None        # None: the run never finished
    record_types: list[str] = field(default_factory=list)

    @property
    def files_dir(self) -> Path:
        return self.path.parent / "files"

    def metric(self, key: str) -> list[Any]:
        """Every logged value of ``key``, in step order."""
        return [row[key] for row in self.history if key in row]

    def table(self, key: str) -> list[dict[str, Any]]:
        """Rows of the last table logged under ``key`` (read from the table file wandb wrote)."""
        refs = [v for v in self.metric(key) if isinstance(v, dict) and v.get("_type") == "table-file"]
        if not refs:
            raise KeyError(f"no table {key!r} in {self.path} (history keys: "
                           f"{sorted({k for r in self.history for k in r})})")
        doc = json.loads((self.files_dir / refs[-1]["path"]).read_text())
        return [dict(zip(doc["columns"], row)) for row in doc["data"]]


def read_run(path: str | Path) -> OfflineRun:
    path = Path(path)
    run = OfflineRun(path=path)
    for rec in iter_records(path):
        kind = rec.WhichOneof("record_type")
        run.record_types.append(kind or "")
        if kind == "run":
            r = rec.run
            run.run_id, run.project, run.entity = r.run_id, r.project, r.entity
            run.group, run.job_type, run.name, run.tags = r.run_group, r.job_type, r.display_name, list(r.tags)
            for it in r.config.update:
                _set(run.config, it.key, list(it.nested_key), _item_value(it))
        elif kind == "config":
            for it in rec.config.update:
                _set(run.config, it.key, list(it.nested_key), _item_value(it))
            for it in rec.config.remove:
                run.config.pop(it.key, None)
        elif kind == "history":
            row: dict[str, Any] = {}
            for it in rec.history.item:
                _set(row, it.key, list(it.nested_key), _item_value(it))
            run.history.append(row)
        elif kind == "summary":
            for it in rec.summary.update:
                _set(run.summary, it.key, list(it.nested_key), _item_value(it))
        elif kind == "exit":
            run.exit_code = rec.exit.exit_code
    run.config.pop("_wandb", None)
    return run


def find_runs(wandb_dir: str | Path) -> list[OfflineRun]:
    """Every run under ``wandb_dir`` (the ``dir`` given to wandb, or its ``wandb/`` subfolder),
    oldest first."""
    root = Path(wandb_dir)
    files = sorted(root.glob("wandb/*-run-*/run-*.wandb")) + sorted(root.glob("*-run-*/run-*.wandb"))
    return [read_run(f) for f in sorted(set(files), key=lambda p: p.parent.name)]
