"""Helpers for the reliability tests: start the real CLI in its own process group, watch its log
for stage transitions, kill it, and read back what is on disk."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from rk_helpers import MODELS, REPO

# Pipeline order including score (selection=llh_* makes select need it).
ORDER = ["generate", "judge", "score", "select", "format", "train", "eval", "report"]


def rk_cmd(outputs: Path, *overrides: str, flags: tuple[str, ...] = ()) -> list[str]:
    """``flags`` (e.g. ``-m``) go before the overrides: Hydra's parser wants them there."""
    return ["nice", "-n", "5", sys.executable, "-m", "reasonkit", *flags, f"paths.outputs={outputs}",
            f"paths.models={MODELS}", *overrides]


class Watched:
    """A CLI process in its own session, its merged output read line by line on a thread so the
    moment a stage starts ("[<stage>] computing") is known without polling the disk."""

    def __init__(self, cmd: list[str], env: dict | None = None):
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True, env={**os.environ, **(env or {})})
        self.lines: list[str] = []
        self.started: dict[str, float] = {}
        self.finished: set[str] = set()
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            with self.cond:
                self.lines.append(line)
                for st in ORDER:
                    if f"[{st}] computing" in line and st not in self.started:
                        self.started[st] = time.monotonic()
                    if f"[{st}] done in" in line:
                        self.finished.add(st)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_stage(self, stage: str, timeout: float = 600) -> bool:
        """True once ``stage`` has started computing; False if the process ended first."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while stage not in self.started:
                if self.proc.poll() is not None and not self.reader.is_alive():
                    return False
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"stage {stage} did not start within {timeout}s:\n{self.log[-3000:]}")
                self.cond.wait(min(left, 0.5))
        return True

    def sleep_within(self, stage: str, delay: float) -> None:
        """Sleep ``delay`` seconds, or less if ``stage`` finishes first (its duration varies with
        the machine's load; a kill meant for it should not drift into later stages)."""
        end = time.monotonic() + delay
        with self.cond:
            while stage not in self.finished and self.proc.poll() is None:
                left = end - time.monotonic()
                if left <= 0:
                    return
                self.cond.wait(min(left, 0.05))

    def kill9(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.reader.join(30)

    def finish(self, timeout: float = 900) -> int:
        rc = self.proc.wait(timeout)
        self.reader.join(30)
        return rc

    @property
    def log(self) -> str:
        return "".join(self.lines)


def live_members(pgid: int) -> list[int]:
    """Processes (not zombies) still in process group ``pgid``: a kill -9 of the group must leave
    none (a worker that escaped it would keep holding locks and CPU)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(d.name))
    return out


def artifact_dirs(root: Path, stage: str) -> list[Path]:
    d = root / stage
    return sorted(p for p in d.iterdir() if p.is_dir()) if d.exists() else []


def in_progress(root: Path) -> str | None:
    """The stage a kill interrupted: the one with an artifact folder and no ``_SUCCESS``
    (``begin`` creates the folder just before the stage runs). None: between stages."""
    for st in ORDER:
        if any(not (p / "_SUCCESS").exists() for p in artifact_dirs(root, st)):
            return st
    return None


def ids(art: Path, pattern: str = "part-*.jsonl") -> list[str]:
    return [json.loads(line)["id"] for f in sorted(art.glob(pattern)) for line in f.read_text().splitlines()
            if line.strip()]


# Files that record how a run went rather than what it computed: wall times, hosts, absolute input
# paths, appended logs (a resumed run logs twice), per-run progress counters (shard-*.json).
VOLATILE = {"manifest.json", "train.log", "train_log.json", "trainer_state.json", "training_args.bin"}
VOLATILE_SUFFIXES = (".lock", ".log")
# TRL's model card lists its tags from a set: their order follows the process's hash seed, so it
# differs between two uninterrupted runs too. The weights, optimizer and RNG states are compared.
VOLATILE_PATHS = {"checkpoints/README.md"}


def content_files(art: Path) -> dict[str, Path]:
    out = {}
    for p in sorted(art.rglob("*")):
        rel = str(p.relative_to(art))
        if p.is_file() and p.name not in VOLATILE and not p.name.endswith(VOLATILE_SUFFIXES) \
                and not p.name.startswith("shard-") and rel not in VOLATILE_PATHS:
            out[rel] = p
    return out


def records_on_disk(art_root: Path, stage: str) -> int:
    """Complete records in a stage's part files right now, finished or ``.partial``."""
    n = 0
    for f in (art_root / stage).glob("*/part-*.jsonl*"):
        try:
            n += f.read_bytes().count(b"\n")
        except OSError:  # renamed from .partial to final between glob and read
            pass
    return n


def digest_file(p: Path, root: Path) -> str:
    """sha256 of the bytes, with this run's outputs root replaced by a placeholder (reports name
    the artifact folders they read, and the two runs live in different temp folders)."""
    data = p.read_bytes().replace(str(root).encode(), b"<OUT>")
    return hashlib.sha256(data).hexdigest()
