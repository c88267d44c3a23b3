"""``judge=code``: run the response's last code block against APPS/TACO tests in the sandbox.

Tests come from the sample's ``answer`` (the APPS ``input_output`` JSON) or ``meta.tests``.
Sandboxes run concurrently on threads (they only wait on child processes; no signals), one
unprivileged uid per slot. Identical programs for the same tests run once.
"""
from __future__ import annotations

import hashlib
import json
import queue
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable, Iterator

from reasonkit.think import THINK_VERSION

from .base import JUDGES, BaseJudge, JudgeInputError
from .config import JudgeConfig
from .extract import EXTRACT_VERSION, extract_code
from .sandbox import RunResult, Sandbox, SandboxUnavailable, TestSpec, parse_tests

CODE_VERSION = "1"


def sample_tests(s: dict[str, Any], n: int) -> TestSpec:
    meta = s.get("meta") if isinstance(s.get("meta"), dict) else {}
    src, field = (meta["tests"], "meta.tests") if "tests" in meta else (s.get("answer"), "answer")
    if src is None:
        raise JudgeInputError(f"sample #{n} (id {s.get('id')!r}): judge=code needs APPS/TACO tests in "
                              "field 'answer' (JSON) or 'meta.tests'; found neither")
    try:
        return parse_tests(src, f"sample #{n} (id {s.get('id')!r}): field '{field}'")
    except ValueError as e:
        raise JudgeInputError(str(e)) from None


@JUDGES.register("code")
class CodeJudge(BaseJudge):
    name = "code"
    version = f"{CODE_VERSION}+x{EXTRACT_VERSION}+t{THINK_VERSION}"

    def __init__(self, cfg: JudgeConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.sandbox = Sandbox(cfg.code)
        self.workers = cfg.workers or __import__("os").cpu_count() or 1
        self._slots: queue.Queue[int] = queue.Queue()
        for i in range(self.workers):
            self._slots.put(i)
        self._exec = ThreadPoolExecutor(self.workers, thread_name_prefix="rk-sandbox")
        self._cache: OrderedDict[str, RunResult] = OrderedDict()
        self.stats.update(runs=0, cache_hits=0, timeouts=0, crashed=0,
                          tests_run=0, spawn_seconds=0.0, test_seconds=0.0,
                          backend=cfg.code.backend)

    def _run(self, code: str, tests: TestSpec) -> RunResult:
        slot = self._slots.get()
        try:
            return self.sandbox.run(code, tests, slot)
        finally:
            self._slots.put(slot)

    def judge(self, samples: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        n = 0
        for s in samples:
            n += 1
            batch.append((n, s))
            if len(batch) >= max(self.workers * 4, 8):
                yield from self._batch(batch)
                batch = []
        if batch:
            yield from self._batch(batch)

    def _batch(self, batch: list[tuple[int, dict[str, Any]]]) -> Iterator[dict[str, Any]]:
        e = self.cfg.extract
        jobs: dict[str, Any] = {}
        results: dict[str, RunResult] = {}
        rows = []
        for n, s in batch:
            tests = sample_tests(s, n)
            ext = extract_code(s.get("response"), think_tags=e.think_tags, harmony=e.harmony,
                               unclosed=e.unclosed_think)
            key = None
            if ext.answer is not None:
                h = hashlib.sha256()
                h.update(ext.answer.encode())
                h.update(json.dumps([tests.inputs, tests.outputs, tests.fn_name], default=str).encode())
                key = h.hexdigest()
                if key in self._cache:
                    self._cache.move_to_end(key)
                    results[key] = self._cache[key]
                    self.stats["cache_hits"] += 1
                elif key in jobs:
                    self.stats["cache_hits"] += 1
                else:
                    jobs[key] = self._exec.submit(self._run, ext.answer, tests)
            rows.append((s, ext, key))
        for key, fut in jobs.items():
            r = fut.result()
            if r.status == "sandbox_error":
                raise SandboxUnavailable(f"the code sandbox did not start: {r.detail}")
            results[key] = r
            st = self.stats
            st["runs"] += 1
            st["tests_run"] += r.tests_run
            st["spawn_seconds"] = round(st["spawn_seconds"] + r.spawn_seconds, 3)
            st["test_seconds"] = round(st["test_seconds"] + r.seconds, 3)
            st["timeouts"] += r.status == "timeout" or any(t["status"] == "timeout" for t in r.per_test)
            st["crashed"] += r.status == "crashed"
            self._cache[key] = r
            if len(self._cache) > self.cfg.cache_size:
                self._cache.popitem(last=False)
        for s, ext, key in rows:
            if key is None:
                self._verdict(s, None, False, extract_method=ext.method, code_status="no_code")
            else:
                r = results[key]
                self._verdict(s, ext.answer, r.passed, extract_method=ext.method,
                              code_status=r.status, tests_passed=r.tests_passed,
                              tests_total=r.tests_total, code_detail=r.detail[:500])
            s["label_source"] = "dataset"
            yield s

    def close(self) -> None:
        self._exec.shutdown(wait=True, cancel_futures=True)
