"""Content-addressed artifacts: ``<root>/<stage>/<name>-<hash>/`` with ``_SUCCESS`` written last.

Why this shape: a sweep over selection strategies must generate and judge once, several SLURM jobs
may ask for the same artifact at the same moment, and a killed generation must resume without
losing or duplicating a record. So an artifact is complete iff ``_SUCCESS`` exists, computation
happens under a file lock next to it, and record shards are either complete (renamed from a temp
name) or an append-only ``.partial`` file that is repaired (torn last line dropped) on resume.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from filelock import FileLock

from reasonkit.records import dumps, read_jsonl

SUCCESS = "_SUCCESS"
MANIFEST = "manifest.json"
CONFIG = "config.yaml"


class MissingArtifact(FileNotFoundError):
    """An input a stage needs has not been computed (or is incomplete)."""


class OutOfSpace(OSError):
    """The outputs file system is full (or over quota) while an artifact is written.

    One line that names the file and says what to do: a bare ``[Errno 28]`` deep in a traceback
    does not tell a cluster user that finished records are kept and a rerun continues."""

    def __str__(self) -> str:
        try:
            st = os.statvfs(Path(self.filename).parent)
            free = f"{st.f_bavail * st.f_frsize / 2**20:.1f} MiB free"
        except OSError:
            free = "free space unknown"
        return (f"no space left on device writing {self.filename} ({self.strerror}; {free}): free space "
                f"or point paths.outputs elsewhere, then rerun the same command (it continues from what is complete)")


@contextmanager
def _space(path: Path) -> Iterator[None]:
    try:
        yield
    except OutOfSpace:
        raise
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise OutOfSpace(e.errno, os.strerror(e.errno), str(path)) from e
        raise


@dataclass(frozen=True)
class Artifact:
    """A finished (or in-progress) artifact directory."""

    path: Path

    @property
    def stage(self) -> str:
        return self.path.parent.name

    @property
    def hash(self) -> str:
        return self.path.name.rsplit("-", 1)[-1]

    @property
    def complete(self) -> bool:
        return (self.path / SUCCESS).exists()

    @property
    def manifest(self) -> dict[str, Any]:
        p = self.path / MANIFEST
        return json.loads(p.read_text()) if p.exists() else {}

    def shards(self, prefix: str = "part") -> list[Path]:
        return sorted(self.path.glob(f"{prefix}-*.jsonl"))

    def records(self, prefix: str = "part") -> Iterator[dict[str, Any]]:
        """Stream every record of every complete shard, in shard order."""
        for shard in self.shards(prefix):
            yield from read_jsonl(shard)

    def require(self) -> "Artifact":
        if not self.complete:
            raise MissingArtifact(
                f"artifact {self.path} is missing or incomplete (no {SUCCESS}); "
                f"run `reasonkit stage={self.stage}` with the same config first")
        return self


class ShardWriter:
    """Append-only, resumable JSONL shard.

    Records go to ``<name>.partial`` in batches that are flushed and fsync'd; ``close()`` renames
    it to ``<name>`` atomically. On reopen, a torn trailing line (the process was killed mid-write)
    is cut off, so every id already on disk is a complete record and is reported as done.
    """

    def __init__(self, final: Path):
        self.final = final
        self.partial = final.with_name(final.name + ".partial")
        self.done_ids: set[str] = set()
        if final.exists():  # already complete
            self.done_ids = {r["id"] for r in read_jsonl(final)}
            self._fh = None
            return
        if self.partial.exists():
            self._repair()
        self._fh = self.partial.open("a", encoding="utf-8")

    def _repair(self) -> None:
        data = self.partial.read_bytes()
        keep = data.rfind(b"\n") + 1  # everything up to the last complete line
        if keep != len(data):
            with self.partial.open("r+b") as fh:
                fh.truncate(keep)
        for line in data[:keep].splitlines():
            if line.strip():
                self.done_ids.add(json.loads(line)["id"])

    @property
    def finished(self) -> bool:
        return self._fh is None

    def write_batch(self, records: Iterable[dict[str, Any]]) -> int:
        assert self._fh is not None, "shard already closed"
        n = 0
        buf = []
        for r in records:
            if r["id"] in self.done_ids:
                continue
            buf.append(dumps(r))
            self.done_ids.add(r["id"])
            n += 1
        with _space(self.partial):
            self._fh.write("".join(buf))
            self._fh.flush()
            os.fsync(self._fh.fileno())
        return n

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
            os.replace(self.partial, self.final)


def write_shard(path: Path, records: Iterable[dict[str, Any]]) -> int:
    """Write a whole shard under a temp name, rename when complete."""
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with _space(tmp), tmp.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(dumps(r))
            n += 1
    os.replace(tmp, path)
    return n


def write_sharded(out: Path, records: Iterable[dict[str, Any]], shard_size: int = 50_000,
                  prefix: str = "part") -> int:
    """Stream records into ``part-00000.jsonl``, ``part-00001.jsonl`` … without holding them:
    each record goes straight to its shard's temp file, renamed when the shard is full (or the
    stream ends), so memory does not grow with the shard size. No records: one empty shard."""
    n = 0
    idx = 0
    fh = None
    tmp = final = None
    try:
        for r in records:
            if fh is None:
                final = out / f"{prefix}-{idx:05d}.jsonl"
                tmp = final.with_name(final.name + ".tmp")
                fh = tmp.open("w", encoding="utf-8")
            fh.write(dumps(r))
            n += 1
            if n % shard_size == 0:
                fh.close()
                os.replace(tmp, final)
                fh = None
                idx += 1
        if fh is not None:
            fh.close()
            os.replace(tmp, final)
            fh = None
        elif n == 0:
            write_shard(out / f"{prefix}-00000.jsonl", [])
    finally:
        if fh is not None:  # the stream failed: no half-written shard under a final name
            fh.close()
            tmp.unlink(missing_ok=True)
    return n


class ArtifactStore:
    """Where artifacts live, and the lock-then-check protocol that computes each exactly once."""

    def __init__(self, root: str | Path):
        self.root = Path(root).absolute()

    def artifact(self, stage: str, name: str, digest: str) -> Artifact:
        return Artifact(self.root / stage / f"{name}-{digest}")

    @contextmanager
    def lock(self, art: Artifact, poll_log: float = 30.0) -> Iterator[None]:
        art.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(art.path) + ".lock")
        t0 = time.time()
        while True:
            try:
                lock.acquire(timeout=poll_log)
                break
            except TimeoutError:
                print(f"[reasonkit] waiting for {art.path} (another process holds the lock, "
                      f"{time.time() - t0:.0f}s)", flush=True)
        try:
            yield
        finally:
            lock.release()

    @staticmethod
    def begin(art: Artifact, resumable: bool) -> None:
        """Prepare the directory for computation. Non-resumable stages start clean, so nothing
        half-written from an earlier crash can leak into the new result."""
        if art.path.exists() and not resumable:
            shutil.rmtree(art.path)
        art.path.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def finish(art: Artifact, manifest: dict[str, Any], config_yaml: str) -> None:
        manifest = {**manifest, "host": socket.gethostname(), "finished_at": time.time()}
        tmp = art.path / (MANIFEST + f".tmp{os.getpid()}")  # shards may finish at the same moment
        with _space(art.path / MANIFEST):
            (art.path / CONFIG).write_text(config_yaml)
            tmp.write_text(json.dumps(manifest, indent=2, default=str))
            os.replace(tmp, art.path / MANIFEST)
            (art.path / SUCCESS).write_text("")

    @staticmethod
    def abandon(art: Artifact, resumable: bool) -> None:
        """After a failure: keep resumable progress, remove everything else."""
        if not resumable and art.path.exists():
            shutil.rmtree(art.path, ignore_errors=True)
