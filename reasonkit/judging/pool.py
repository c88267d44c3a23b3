"""A process pool with a hard per-item timeout: a worker past its deadline is SIGKILLed and
replaced, the item gets a ``timeout`` result, the rest of its chunk goes to another worker.

Why not ``concurrent.futures`` or math-verify's own timeout: math-verify times out with
``signal.alarm``, which raises outside the main thread and cannot interrupt sympy while it sits in
C code (a 10**10**10 power), so some inputs hang it for good; ``ProcessPoolExecutor`` cannot kill
one stuck worker without breaking the whole pool. Here the parent only waits on pipes with a
deadline (``multiprocessing.connection.wait``), sends no signal but SIGKILL to its own workers,
and works from any thread.

Workers start from a forkserver that has already imported the target module, so replacing a
killed worker costs milliseconds, not a fresh sympy import.
"""
from __future__ import annotations

import importlib
import logging
import math
import multiprocessing as mp
import os
import resource
import signal
import time
import weakref
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Sequence

log = logging.getLogger(__name__)


@dataclass
class TaskResult:
    status: str  # ok | timeout | error | crash
    value: Any = None
    seconds: float = 0.0


def _resolve(target: str) -> Callable[[Any], Any]:
    mod, _, attr = target.partition(":")
    return getattr(importlib.import_module(mod), attr)


def _worker_main(conn: Connection, target: str, init: str | None, init_args: tuple,
                 memory_mb: int | None) -> None:
    """Loop: receive a chunk of (index, item), send one (index, status, value) per item."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
    if memory_mb:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if init:
        _resolve(init)(*init_args)
    fn = _resolve(target)
    conn.send(("ready", None, None))  # start-up (imports) is not charged to any item
    while True:
        try:
            chunk = conn.recv()
        except (EOFError, OSError):
            return
        if chunk is None:
            return
        for idx, item in chunk:
            try:
                conn.send((idx, "ok", fn(item)))
            except MemoryError:
                conn.send((idx, "error", "MemoryError"))
            except RecursionError:
                conn.send((idx, "error", "RecursionError"))
            except Exception as e:  # noqa: BLE001 - any failure of one item is that item's verdict
                conn.send((idx, "error", f"{type(e).__name__}: {str(e)[:200]}"))


class _Worker:
    def __init__(self, ctx: Any, args: tuple) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child, *args), daemon=True)
        self.proc.start()
        child.close()
        self.chunk: deque[tuple[int, Any]] = deque()
        self.deadline = math.inf
        self.started = 0.0
        self.ready = False  # finished start-up
        self.start_deadline = 0.0

    def kill(self, wait: float = 5.0) -> None:
        """SIGKILL; ``wait=0`` leaves the reaping to later (a worker that filled gigabytes can take
        a while to exit, which must not delay the next item)."""
        try:
            self.proc.kill()
        except (OSError, ValueError, AttributeError):
            pass
        if wait:
            self.proc.join(wait)
        self.conn.close()


def _shutdown(workers: list[_Worker], dying: list[Any]) -> None:
    for p in dying:
        p.join(5)
    dying.clear()
    for w in workers:
        try:
            w.conn.send(None)
        except (OSError, ValueError):
            pass
    for w in workers:
        w.proc.join(2)
        if w.proc.is_alive():
            w.kill()
        else:
            w.conn.close()
    workers.clear()


class HardTimeoutPool:
    """``run(items)`` → one ``TaskResult`` per item, in order, each item given ``timeout_s``.

    ``target`` / ``init`` are ``"module:function"`` names so any start method can import them.
    """

    def __init__(self, target: str, *, workers: int = 0, timeout_s: float = 5.0,
                 init: str | None = None, init_args: tuple = (), memory_mb: int | None = None,
                 start_method: str = "forkserver", preload: Sequence[str] = (),
                 start_timeout_s: float = 300.0) -> None:
        self.timeout_s = float(timeout_s)
        self.start_timeout_s = float(start_timeout_s)
        self.n_workers = workers or os.cpu_count() or 1
        self._args = (target, init, tuple(init_args), memory_mb)
        self._ctx = mp.get_context(start_method)
        if start_method == "forkserver":
            mods = [target.partition(":")[0], *(init and [init.partition(":")[0]] or []), *preload]
            self._ctx.set_forkserver_preload(sorted(set(mods)))
        self._workers: list[_Worker] = []
        self._dying: list[Any] = []  # killed workers not yet reaped
        self._finalizer = weakref.finalize(self, _shutdown, self._workers, self._dying)
        self.stats = {"items": 0, "timeouts": 0, "errors": 0, "crashes": 0, "respawns": 0}

    def _spawn(self) -> _Worker:
        w = _Worker(self._ctx, self._args)
        w.start_deadline = time.monotonic() + self.start_timeout_s
        return w

    def _ensure_workers(self, n: int) -> None:
        while len(self._workers) < n:
            self._workers.append(self._spawn())

    def run(self, items: Sequence[Any]) -> list[TaskResult]:
        n = len(items)
        if n == 0:
            return []
        self.stats["items"] += n
        results: list[TaskResult | None] = [None] * n
        size = max(1, min(32, math.ceil(n / (self.n_workers * 4))))
        queue: deque[list[tuple[int, Any]]] = deque(
            [list(zip(range(i, min(i + size, n)), items[i:i + size])) for i in range(0, n, size)])
        self._ensure_workers(min(self.n_workers, len(queue)))
        remaining = n
        stillborn = 0  # consecutive workers that died before becoming ready

        def retire(w: _Worker) -> None:
            w.kill(wait=0)
            self._dying.append(w.proc)
            self._workers[self._workers.index(w)] = self._spawn()
            self.stats["respawns"] += 1

        def fail_current(w: _Worker, status: str, value: Any) -> None:
            """The worker's current item ends with ``status``; the rest of its chunk is re-queued."""
            nonlocal remaining
            idx, _ = w.chunk.popleft()
            results[idx] = TaskResult(status, value, time.monotonic() - w.started)
            remaining -= 1
            if w.chunk:
                queue.appendleft(list(w.chunk))
                w.chunk.clear()
            retire(w)

        while remaining:
            for w in self._workers:
                if w.ready and not w.chunk and queue:
                    chunk = queue.popleft()
                    w.chunk = deque(chunk)
                    try:
                        w.conn.send(chunk)
                    except (OSError, ValueError):  # died while idle: give the chunk to a new one
                        queue.appendleft(chunk)
                        w.chunk.clear()
                        retire(w)
                        continue
                    w.started = time.monotonic()
                    w.deadline = w.started + self.timeout_s
            watched = {w.conn: w for w in self._workers if w.chunk or not w.ready}
            deadlines = [w.deadline if w.ready else w.start_deadline for w in watched.values()]
            wait_s = max(0.0, min(deadlines) - time.monotonic()) if deadlines else 0.0
            for conn in wait(list(watched), timeout=wait_s):
                w = watched[conn]
                try:
                    idx, status, value = conn.recv()
                except (EOFError, OSError):
                    w.proc.join(1)
                    code = w.proc.exitcode
                    if not w.ready:
                        stillborn += 1
                        if stillborn >= 3:
                            raise RuntimeError(
                                f"judge workers ({self._args[0]}) exit during start-up "
                                f"(exit code {code}). With start_method=forkserver/spawn the main "
                                "script is imported again in each worker: guard its entry point "
                                "with `if __name__ == '__main__':`") from None
                        retire(w)
                    else:
                        self.stats["crashes"] += 1
                        why = f"killed by {signal.Signals(-code).name}" if code and code < 0 else f"exit code {code}"
                        # a segfault in C code or the OOM killer: visible at the default log level,
                        # since the item's verdict ("crash") is all the record will say
                        log.warning("judge worker %s died (%s) on an item; the item gets a 'crash' verdict, "
                                    "the rest of its chunk goes to a new worker", w.proc.pid, why)
                        fail_current(w, "crash", f"worker died ({why})")
                    continue
                now = time.monotonic()
                if idx == "ready":
                    w.ready = True
                    stillborn = 0
                    continue
                w.chunk.popleft()
                results[idx] = TaskResult(status, value, now - w.started)
                if status == "error":
                    self.stats["errors"] += 1
                remaining -= 1
                w.started, w.deadline = now, now + self.timeout_s
            now = time.monotonic()
            for w in list(self._workers):
                if w.ready and w.chunk and w.deadline <= now:
                    self.stats["timeouts"] += 1
                    log.debug("item timed out after %.1fs; killing worker %s", self.timeout_s, w.proc.pid)
                    fail_current(w, "timeout", None)
                elif not w.ready and w.start_deadline <= now:
                    raise RuntimeError(f"judge worker ({self._args[0]}) not ready after "
                                       f"{self.start_timeout_s:.0f}s")
        self._dying = [p for p in self._dying if p.exitcode is None]  # reap the finished
        return results  # type: ignore[return-value]

    def close(self) -> None:
        self._finalizer()

    def __enter__(self) -> "HardTimeoutPool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
