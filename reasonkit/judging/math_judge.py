"""``judge=math``: extracted answer vs the dataset's reference answer, via ``MathChecker``."""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from .base import BaseJudge, iter_batches
from .config import JudgeConfig
from .extract import EXTRACT_VERSION, Extraction, extract_answer, extract_gold
from .mathcheck import MathChecker, Verdict

MATH_VERSION = "1"


def extractor(cfg: JudgeConfig):
    """The configured answer extractor as a one-argument function."""
    e = cfg.extract

    def run(text: str | None) -> Extraction:
        return extract_answer(text, e.order, e.think_tags, e.harmony, e.unclosed_think)

    return run


class MathJudge(BaseJudge):
    name = "math"
    version = f"{MATH_VERSION}+x{EXTRACT_VERSION}"

    def __init__(self, cfg: JudgeConfig, checker: MathChecker | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.extract = extractor(cfg)
        self.checker = checker or MathChecker(cfg)
        self.stats.update(no_gold=0)

    def _start(self, groups: list[list[dict[str, Any]]]):
        """Extract every sample of the batch and start its checks; verdicts come from ``_finish``."""
        rows: list[tuple[Extraction, str | None]] = []
        pairs: list[tuple[str, str]] = []
        ctx: list[dict[str, Any]] = []
        where: list[int] = []
        for group in groups:
            gold = extract_gold(group[0].get("answer"))
            for s in group:
                ext = self.extract(s.get("response"))
                rows.append((ext, gold))
                if ext.answer is not None and gold is not None:
                    where.append(len(rows) - 1)
                    pairs.append((gold, ext.answer))
                    ctx.append({"problem_id": s.get("problem_id"), "sample_id": s.get("id")})
        return groups, rows, where, self.checker.start(pairs, ctx)

    def _finish(self, groups, rows, where, job) -> Iterator[dict[str, Any]]:
        verdicts: list[Verdict | None] = [None] * len(rows)
        for i, v in zip(where, self.checker.finish(job)):
            verdicts[i] = v
        flat = iter(zip(rows, verdicts))
        for group in groups:
            for s in group:
                (ext, gold), v = next(flat)
                if gold is None:
                    self.stats["no_gold"] += 1
                meta: dict[str, Any] = {"extract_method": ext.method}
                if v is not None:
                    meta["verdict"] = v.how
                    if v.second is not None:
                        meta["second_correct"] = v.second
                self._verdict(s, ext.answer, v.correct if v else False, **meta)
                s["label_source"] = "dataset" if gold is not None else "none"
                yield s
        self.stats.update(self.checker.stats)

    def judge(self, samples: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Two batches in flight: while the pool verifies one, the next is extracted."""
        pending = None
        for groups in iter_batches(samples, self.cfg.batch_size):
            started = self._start(groups)
            if pending is not None:
                yield from self._finish(*pending)
            pending = started
        if pending is not None:
            yield from self._finish(*pending)

    def close(self) -> None:
        self.checker.close()
        self.stats.update(self.checker.stats)
