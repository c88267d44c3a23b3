"""One math-verify worker pool per eval run, lent to every cell's checker.

Why: a cell's judge (and the maj@k clusterer) owns a ``MathChecker`` whose worker pool starts
lazily and closes with the judge, so a grid of nine benchmarks paid for nine pool start-ups
(about 0.2 s each on a loaded two-core machine, more than the judging itself on short runs).
Each cell still gets its own checker, so its verdict cache, statistics and records are exactly
what a run of that cell alone writes (``cache`` vs ``verify`` labels do not depend on which cells
ran before); only the worker processes are shared. Pools are keyed by everything their workers
are started with, so cells whose judges differ there get their own.

The checker's pool slot (``MathChecker._pool``, filled on first use) is the one coupling to the
judging package: ``lend`` fills it before the cell and ``take_back`` empties it before the
checker closes, so closing a cell's judge never stops the shared workers.
"""
from __future__ import annotations

from typing import Any

# JudgeConfig fields the pool's workers are started with (mathcheck.MathChecker.pool)
POOL_FIELDS = ("workers", "timeout_s", "float_rounding", "numeric_precision", "strict", "worker_memory_mb",
               "start_method")


class SharedPools:
    def __init__(self) -> None:
        self._donors: dict[tuple, Any] = {}

    def _donor(self, jcfg: Any) -> Any:
        from reasonkit.judging.mathcheck import MathChecker

        key = tuple(getattr(jcfg, f, None) for f in POOL_FIELDS)
        if key not in self._donors:
            self._donors[key] = MathChecker(jcfg)
        return self._donors[key]

    def lend(self, checker: Any) -> bool:
        """Give ``checker`` the shared pool for its config; False when it is not a checker with an
        unstarted pool slot (other judges, or a pool already running)."""
        from reasonkit.judging.mathcheck import MathChecker

        if not isinstance(checker, MathChecker) or getattr(checker, "_pool", True) is not None:
            return False
        checker._pool = self._donor(checker.cfg).pool
        return True

    def take_back(self, checker: Any) -> None:
        if checker is not None and hasattr(checker, "_pool"):
            checker._pool = None

    def close(self) -> None:
        for d in self._donors.values():
            d.close()
        self._donors.clear()
