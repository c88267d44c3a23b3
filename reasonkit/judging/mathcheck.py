"""Math equivalence at scale: math-verify in a hard-timeout process pool, behind a verdict cache
and a string/integer fast path.

The parent never imports sympy for a verdict: it extracts, normalizes, looks up the
(gold, answer) cache, and sends only unseen pairs to the workers. The n samples of one problem
usually share a handful of distinct answers, so most of them never reach a worker.
"""
from __future__ import annotations

import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from .config import JudgeConfig
from .normalize import SECOND_CHECKERS, fast_verdict
from .pool import HardTimeoutPool

log = logging.getLogger(__name__)

# the worker side lives in its own module so the parent never imports sympy, and the forkserver
# (which preloads the target module) imports it once for all workers
VERIFY_TARGET = "reasonkit.judging.mv_worker:verify_task"
INIT_TARGET = "reasonkit.judging.mv_worker:init_worker"


# ----------------------------------------------------------------------------- parent side


@dataclass
class Verdict:
    correct: bool
    how: str  # fast | cache | verify | timeout | error | too_long
    second: bool | None = None


class MathChecker:
    """``check(pairs)`` → one ``Verdict`` per (gold, answer) pair; owns the pool and the cache."""

    def __init__(self, cfg: JudgeConfig) -> None:
        self.cfg = cfg
        self.max_chars = cfg.extract.max_answer_chars
        if cfg.second_checker is not None and cfg.second_checker not in SECOND_CHECKERS:
            raise ValueError(f"judge.second_checker: unknown {cfg.second_checker!r}; expected one of "
                             f"{', '.join(SECOND_CHECKERS)} or null")
        self.second = SECOND_CHECKERS.get(cfg.second_checker) if cfg.second_checker else None
        self._cache: OrderedDict[tuple[str, str], Verdict] = OrderedDict()
        self._pool: HardTimeoutPool | None = None
        self._log_fh = None
        self._logged: set[tuple[str, str]] = set()
        if cfg.disagreements_path:
            Path(cfg.disagreements_path).parent.mkdir(parents=True, exist_ok=True)
            self._log_fh = open(cfg.disagreements_path, "a", encoding="utf-8")
        self.stats: dict[str, Any] = {"pairs": 0, "fast_path": 0, "cache_hits": 0, "verified": 0,
                                      "timeouts": 0, "errors": 0, "too_long": 0,
                                      "disagreements": 0, "disagreement_examples": []}

    @property
    def pool(self) -> HardTimeoutPool:
        if self._pool is None:
            c = self.cfg
            self._pool = HardTimeoutPool(
                VERIFY_TARGET, workers=c.workers, timeout_s=c.timeout_s, init=INIT_TARGET,
                init_args=(c.float_rounding, c.numeric_precision, c.strict),
                memory_mb=c.worker_memory_mb, start_method=c.start_method)
        return self._pool

    def _remember(self, key: tuple[str, str], v: Verdict) -> None:
        self._cache[key] = v
        if len(self._cache) > self.cfg.cache_size:
            self._cache.popitem(last=False)

    def check(self, pairs: Sequence[tuple[str, str]],
              contexts: Sequence[dict[str, Any]] | None = None) -> list[Verdict]:
        """Verdicts for (gold, answer) pairs; ``contexts`` (ids) only label disagreement logs."""
        out: list[Verdict | None] = [None] * len(pairs)
        todo: dict[tuple[str, str], list[int]] = {}
        st = self.stats
        st["pairs"] += len(pairs)
        for i, (gold, ans) in enumerate(pairs):
            key = (gold.strip(), ans.strip())
            if len(key[0]) > self.max_chars or len(key[1]) > self.max_chars:
                st["too_long"] += 1
                out[i] = Verdict(False, "too_long")
                continue
            if self.cfg.fast_path:
                fast = fast_verdict(*key)
                if fast is not None:
                    st["fast_path"] += 1
                    out[i] = Verdict(fast, "fast")
                    continue
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                st["cache_hits"] += 1
                out[i] = Verdict(hit.correct, "cache", hit.second)
                continue
            if key in todo:
                st["cache_hits"] += 1
            todo.setdefault(key, []).append(i)
        if todo:
            keys = list(todo)
            results = self.pool.run(keys)
            for key, res in zip(keys, results):
                if res.status == "ok":
                    v = Verdict(bool(res.value), "verify")
                    st["verified"] += 1
                elif res.status == "timeout":
                    v = Verdict(False, "timeout")
                    st["timeouts"] += 1
                else:
                    v = Verdict(False, "error")
                    st["errors"] += 1
                    log.debug("verify error for %r: %s", key, res.value)
                if self.second is not None:
                    v.second = bool(self.second(*key))
                    if v.second != v.correct:
                        self._disagree(key, v, contexts[todo[key][0]] if contexts else {})
                self._remember(key, v)
                first = True
                for i in todo[key]:
                    out[i] = v if first else Verdict(v.correct, "cache", v.second)
                    first = False
        if self.second is not None:
            for i, v in enumerate(out):
                if v is not None and v.second is None and v.how in ("fast", "too_long"):
                    v.second = bool(self.second(*pairs[i])) if v.how == "fast" else False
                    if v.second != v.correct:
                        key = (pairs[i][0].strip(), pairs[i][1].strip())
                        self._disagree(key, v, contexts[i] if contexts else {})
        return out  # type: ignore[return-value]

    def _disagree(self, key: tuple[str, str], v: Verdict, ctx: dict[str, Any]) -> None:
        """Counted and logged once per distinct (gold, answer)."""
        if key in self._logged:
            return
        if len(self._logged) > 100_000:
            self._logged.clear()
        self._logged.add(key)
        self.stats["disagreements"] += 1
        rec = {**ctx, "gold": key[0], "answer": key[1], "primary": v.correct, "primary_how": v.how,
               "second": v.second, "second_checker": self.cfg.second_checker}
        if len(self.stats["disagreement_examples"]) < 10:
            self.stats["disagreement_examples"].append(rec)
        if self._log_fh is not None:
            self._log_fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            self._log_fh.flush()

    def equal(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        """Equivalence of two answers (the first plays gold): the ``equal`` of vote clustering."""
        return [v.correct for v in self.check(pairs)]

    def close(self) -> None:
        if self._pool is not None:
            self.stats["pool"] = dict(self._pool.stats)
            self._pool.close()
            self._pool = None
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None
