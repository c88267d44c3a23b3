"""Data-parallel generation: problems → parts → shards, each part its own resumable file.

Why parts that do not depend on the shard count: the problem list is cut into at most ``PARTS``
contiguous parts of at least ``MIN_PART`` problems, fixed by the number of problems alone; shard ``i`` of ``N`` owns the parts
``p ≡ i (mod N)``. So the artifact holds the same ``part-XXXXX.jsonl`` files with the same
content whatever ``N`` was (the merged output is identical for any N, in problem order), a run
killed with N=8 can be finished with N=2, and two shards never write the same file. Each part is
computed under its own file lock, so shard processes (SLURM array tasks, or local processes, one
per GPU group) run concurrently without holding the artifact-wide lock; whichever process sees
every part complete finishes the artifact. Each shard process leaves ``shard-<i>.json`` (engine,
fallback, timings) and the finishing process gathers them into the manifest.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from filelock import FileLock, Timeout

log = logging.getLogger(__name__)

# At most PARTS parts of at least MIN_PART problems: 40k problems → 64 parts (8 GPUs × 8), MATH-500
# → 15 parts, a 24-problem smoke test → 1 part. Changing either changes files, not their content.
PARTS = 64
MIN_PART = 32
LAYOUT = "layout.json"


@dataclass(frozen=True)
class Layout:
    """How ``n_problems`` problems are cut into parts (contiguous, sizes differ by at most one)."""

    n_problems: int
    parts: int

    @classmethod
    def for_problems(cls, n_problems: int, max_parts: int = PARTS, min_part: int = MIN_PART) -> "Layout":
        return cls(n_problems, max(1, min(max_parts, n_problems // min_part)))

    def bounds(self, part: int) -> tuple[int, int]:
        return part * self.n_problems // self.parts, (part + 1) * self.n_problems // self.parts

    def parts_of(self, shards: int, shard: int | None) -> list[int]:
        """The parts shard ``shard`` of ``shards`` computes (all of them for ``shard=None``)."""
        if shards < 1:
            raise ValueError(f"sampler.shards: expected >= 1, got {shards}")
        if shard is None:
            return list(range(self.parts))
        if not 0 <= shard < shards:
            raise ValueError(f"sampler.shard: expected 0 <= shard < shards={shards}, got {shard}")
        return [p for p in range(self.parts) if p % shards == shard]

    @staticmethod
    def part_path(out: Path, part: int) -> Path:
        return Path(out) / f"part-{part:05d}.jsonl"

    def missing(self, out: Path) -> list[int]:
        return [p for p in range(self.parts) if not self.part_path(out, p).exists()]

    def record(self, out: Path) -> "Layout":
        """Write ``layout.json`` once; refuse to continue an artifact cut for another problem set."""
        path = Path(out) / LAYOUT
        with FileLock(str(path) + ".lock"):
            if path.exists():
                old = Layout(**json.loads(path.read_text()))
                if old != self:
                    raise ValueError(
                        f"{path}: this partially written artifact was cut for {old.n_problems} problems in "
                        f"{old.parts} parts, but the dataset now has {self.n_problems} problems; the "
                        f"inputs changed under the same hash; delete {out} to start over")
            else:
                tmp = path.with_name(LAYOUT + f".tmp{os.getpid()}")
                tmp.write_text(json.dumps(asdict(self)))
                os.replace(tmp, path)
        return self


def claimed_parts(out: Path, parts: Sequence[int], poll: float = 2.0) -> Iterator[list[int]]:
    """Yield groups of unfinished parts of ``parts``, each group while holding its parts' locks.

    A group is every part nobody else holds, so one process generates all its free parts as one
    stream (full engine batches across part boundaries). Parts locked by another process are
    revisited until they are finished (or their holder dies, the lock frees, and we compute them):
    when this iterator ends, every part in ``parts`` exists."""
    pending = list(parts)
    waited = 0.0
    while pending:
        pending = [p for p in pending if not Layout.part_path(out, p).exists()]
        locks, group = [], []
        for p in pending:
            lock = FileLock(str(Layout.part_path(out, p)) + ".lock")
            try:
                lock.acquire(timeout=0)
            except Timeout:
                continue
            locks.append(lock)
            if not Layout.part_path(out, p).exists():
                group.append(p)
        try:
            if group:
                yield group
        finally:
            for lock in locks:
                lock.release()
        pending = [p for p in pending if not Layout.part_path(out, p).exists()]
        if pending and not group:
            if waited == 0 or waited % 60 < poll:
                log.info("parts %s are being computed by another process; waiting", pending)
            time.sleep(poll)
            waited += poll


def write_shard_info(out: Path, shard: int | None, info: dict[str, Any]) -> None:
    name = f"shard-{'all' if shard is None else shard}.json"
    tmp = Path(out) / (name + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(info, indent=2, default=str))
    os.replace(tmp, Path(out) / name)


def gather_shard_info(out: Path) -> dict[str, Any]:
    """Every shard process's info, plus a summary of the engines/fallbacks that were used."""
    shards = {p.stem.split("-", 1)[1]: json.loads(p.read_text()) for p in sorted(Path(out).glob("shard-*.json"))}
    backends = sorted({str(s.get("engine", {}).get("backend")) for s in shards.values()})
    fell_back = {k: s["engine"]["fallback_reason"] for k, s in shards.items()
                 if s.get("engine", {}).get("fallback_from")}
    return {"shards": shards, "backends": backends, "fallbacks": fell_back}


# -- all shards as local processes, one per GPU group -----------------------------------------

def device_groups(shards: int) -> list[str | None]:
    """``CUDA_VISIBLE_DEVICES`` for each local shard: the visible GPUs split evenly (a shard gets
    several when the engine is tensor parallel), or no device list at all on a CPU machine."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        devs = [d for d in visible.split(",") if d.strip()]
    else:
        try:
            import torch

            devs = [str(i) for i in range(torch.cuda.device_count())]
        except ImportError:  # pragma: no cover
            devs = []
    if not devs:
        return [None] * shards
    per = len(devs) // shards
    if per == 0:
        raise ValueError(f"sampler.shards={shards} local processes need a GPU each; {len(devs)} visible "
                         f"({','.join(devs)}): lower sampler.shards or run shards as separate jobs "
                         f"(sampler.shard=i)")
    return [",".join(devs[i * per:(i + 1) * per]) for i in range(shards)]


def run_local_shards(cfg: Any, out: Path, shards: int, timeout: float | None = None) -> None:
    """Run every shard of this artifact as its own process (frozen config, ``sampler.shard=i``)
    and wait; a failed shard is reported with its exit code and log tail (the others keep their
    finished parts, so a rerun only computes what is missing)."""
    from omegaconf import OmegaConf

    out = Path(out)
    frozen = out / "shards-config.yaml"
    tmp = frozen.with_name(frozen.name + f".tmp{os.getpid()}")
    OmegaConf.save(cfg, tmp, resolve=True)
    os.replace(tmp, frozen)
    procs = []
    for i, devices in enumerate(device_groups(shards)):
        env = dict(os.environ)
        if devices is not None:
            env["CUDA_VISIBLE_DEVICES"] = devices
        logf = out / f"shard-{i}.log"
        with logf.open("ab") as fh:
            procs.append((i, logf, subprocess.Popen(
                [sys.executable, "-m", "reasonkit.generation.sharding", str(frozen), str(i), str(out)],
                stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)))
        log.info("generate: shard %d/%d started (pid %d, devices %s, log %s)", i, shards, procs[-1][2].pid,
                 devices, logf)
    failed = []
    try:
        for i, logf, p in procs:
            code = p.wait(timeout=timeout)
            if code != 0:
                failed.append((i, code, logf))
    except BaseException:
        for _, _, p in procs:
            if p.poll() is None:
                p.terminate()
        for _, _, p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        raise
    if failed:
        lines = []
        for i, code, logf in failed:
            tail = "\n".join(logf.read_text(errors="replace").splitlines()[-15:])
            lines.append(f"shard {i} exited with code {code}; log {logf}:\n{tail}")
        raise RuntimeError("generate: local shard processes failed:\n" + "\n".join(lines))


def _child(frozen: str, shard: int, out: str) -> int:
    """One local shard: the same path as a plain run or a SLURM array task (the runner: plan,
    validate, tracking, manifest), with ``sampler.shard`` set; the parts have their own locks, so
    the shards run side by side, and whichever sees every part done completes the artifact."""
    from omegaconf import OmegaConf

    from reasonkit import stages  # noqa: F401 - registers stages
    from reasonkit.pipeline.runner import run
    from reasonkit.tracking import tracker_factory

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    cfg = OmegaConf.load(frozen)
    cfg.stage = "generate"
    cfg.sampler.shard = shard
    result = run(cfg, tracker_factory(cfg))
    got = result.planned["generate"].path
    if got.resolve() != Path(out).resolve():  # the shard's config must name the parent's artifact
        raise RuntimeError(f"shard {shard}: its config hashes to {got}, not the parent's {out}")
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
