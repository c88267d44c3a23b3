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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from .config import JudgeConfig
from .normalize import SECOND_CHECKERS, fast_verdict
from .pool import HardTimeoutPool

log = logging.getLogger(__name__)

# the verdict code: fast path (normalize, numeval) + the worker's math-verify call. Bump whenever
# a change can alter a verdict; it is part of the judge versions (and so of artifact hashes).
CHECKER_VERSION = "3"

# the worker side lives in its own module so the parent never imports sympy, and the forkserver
# (which preloads the target module) imports it once for all workers
VERIFY_TARGET = "reasonkit.judging.mv_worker:run_task"
INIT_TARGET = "reasonkit.judging.mv_worker:init_worker"


# ----------------------------------------------------------------------------- parent side


class _Job:
    """One ``start``ed batch of pairs."""

    def __init__(self, pairs: Sequence[tuple[str, str]], contexts: Sequence[dict[str, Any]] | None) -> None:
        self.pairs = pairs
        self.contexts = contexts
        self.out: list[Verdict | None] = [None] * len(pairs)
        self.todo: dict[tuple[str, str], list[int]] = {}
        self.later: list[int] = []
        self.future: Future | None = None


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
        self._inflight: dict[tuple[str, str], None] = {}
        # (gold, answer) → verdict computed with a tail parse (``parse_answers``), for ``start``
        self._preverified: dict[tuple[str, str], bool] = {}
        # pool.run happens on this one thread while the caller prepares the next batch; the pool
        # waits on pipes only (no signals), so any thread may drive it
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="rk-verify")
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

    def start(self, pairs: Sequence[tuple[str, str]],
              contexts: Sequence[dict[str, Any]] | None = None) -> "_Job":
        """Decide what the fast path and the cache can now; send the rest to the pool on a
        background thread (so the caller can prepare its next batch meanwhile). ``finish`` the
        jobs in the order they were started."""
        job = _Job(pairs, contexts)
        st = self.stats
        st["pairs"] += len(pairs)
        for i, (gold, ans) in enumerate(pairs):
            key = (gold.strip(), ans.strip())
            if len(key[0]) > self.max_chars or len(key[1]) > self.max_chars:
                st["too_long"] += 1
                job.out[i] = Verdict(False, "too_long")
                continue
            hit = self._cache.get(key)
            if hit is None and self.cfg.fast_path:
                fast = fast_verdict(*key)
                if fast is not None:
                    hit = Verdict(fast, "fast")
                    if self.second is not None:
                        hit.second = bool(self.second(*key))
                        if hit.second != hit.correct:
                            self._disagree(key, hit, contexts[i] if contexts else {})
                    self._remember(key, hit)
                    st["fast_path"] += 1
                    job.out[i] = hit
                    continue
            if hit is not None:
                self._cache.move_to_end(key)
                if hit.how == "fast":
                    st["fast_path"] += 1
                    job.out[i] = hit
                else:
                    st["cache_hits"] += 1
                    job.out[i] = Verdict(hit.correct, "cache", hit.second)
                continue
            if key in self._preverified and key not in job.todo and key not in self._inflight:
                v = Verdict(self._preverified.pop(key), "verify")  # verified with its tail parse
                st["verified"] += 1
                if self.second is not None:
                    v.second = bool(self.second(*key))
                    if v.second != v.correct:
                        self._disagree(key, v, contexts[i] if contexts else {})
                self._remember(key, v)
                job.out[i] = v
                continue
            if key in job.todo or key in self._inflight:
                st["cache_hits"] += 1
            if key in self._inflight and key not in job.todo:
                job.later.append(i)  # being verified for an earlier job: read the cache at finish
                continue
            job.todo.setdefault(key, []).append(i)
        if job.todo:
            keys = list(job.todo)
            self._inflight.update(dict.fromkeys(keys))
            job.future = self._thread.submit(self.pool.run, [("verify", *k) for k in keys])
        return job

    def finish(self, job: "_Job") -> list[Verdict]:
        st = self.stats
        if job.future is not None:
            results = job.future.result()
            for key, res in zip(job.todo, results):
                self._inflight.pop(key, None)
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
                        self._disagree(key, v, job.contexts[job.todo[key][0]] if job.contexts else {})
                self._remember(key, v)
                for n, i in enumerate(job.todo[key]):
                    job.out[i] = v if n == 0 else Verdict(v.correct, "cache", v.second)
        for i in job.later:
            key = (job.pairs[i][0].strip(), job.pairs[i][1].strip())
            v = self._cache.get(key)
            if v is None:  # evicted since (tiny cache_size): verify again
                v = self.finish(self.start([key]))[0]
            job.out[i] = Verdict(v.correct, "cache", v.second)
        if self.second is not None:
            for v in job.out:
                if v is not None and v.how == "too_long":
                    v.second = False
        return job.out  # type: ignore[return-value]

    def check(self, pairs: Sequence[tuple[str, str]],
              contexts: Sequence[dict[str, Any]] | None = None) -> list[Verdict]:
        """Verdicts for (gold, answer) pairs; ``contexts`` (ids) only label disagreement logs."""
        return self.finish(self.start(pairs, contexts))

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

    def parse_answers(self, texts: Sequence[str], golds: Sequence[str | None] | None = None) -> list[str | None]:
        """math-verify's parser on free text (``extract``'s ``math_verify`` fallback), in the
        workers: hard timeout, and sympy stays out of the parent. A timeout or error is no answer.

        With ``golds`` (the gold of a sample that asked for each text), a worker also verifies the
        pair its answer will make, while that answer's parse is cached there; ``start`` takes the
        verdict for that exact pair. A parse+verify that fails is retried as a plain parse, so a
        hanging verification still costs the sample its verdict only, never its answer."""
        self._preverified = {}
        if not texts:
            return []
        st = self.stats
        tasks: list[tuple] = [("parse", t) if not (golds and golds[i] and self.cfg.fast_path)
                              else ("parse_verify", t, golds[i], self.max_chars) for i, t in enumerate(texts)]
        results = self._thread.submit(self.pool.run, tasks).result()
        retry = [i for i, r in enumerate(results) if r.status != "ok" and tasks[i][0] == "parse_verify"]
        if retry:
            again = self._thread.submit(self.pool.run, [("parse", texts[i]) for i in retry]).result()
            for i, r in zip(retry, again):
                results[i] = r
                tasks[i] = ("parse", texts[i])
        st["parsed"] = st.get("parsed", 0) + len(texts)
        out: list[str | None] = []
        for task, r in zip(tasks, results):
            if r.status != "ok":
                st["parse_failures"] = st.get("parse_failures", 0) + 1
                out.append(None)
            elif task[0] == "parse_verify":
                found, answer, verdict = r.value
                if answer is not None and verdict is not None:
                    self._preverified[(task[2].strip(), answer)] = bool(verdict)
                    st["preverified"] = st.get("preverified", 0) + 1
                out.append(found)
            else:
                out.append(r.value)
        return out

    def equal(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        """Equivalence of two answers (the first plays gold): the ``equal`` of vote clustering."""
        return [v.correct for v in self.check(pairs)]

    def close(self) -> None:
        self._thread.shutdown(wait=True, cancel_futures=True)
        if self._pool is not None:
            self.stats["pool"] = dict(self._pool.stats)
            self._pool.close()
            self._pool = None
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None
