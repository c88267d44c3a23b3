"""``judge=math``: extracted answer vs the dataset's reference answer, via ``MathChecker``."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Sequence

from reasonkit.think import THINK_VERSION
from .base import JUDGES, BaseJudge, iter_batches
from .config import JudgeConfig
from .extract import EXTRACT_VERSION, Extraction, extract_answer, extract_gold
from .mathcheck import CHECKER_VERSION, MathChecker, Verdict

MATH_VERSION = "2"


def checker_versions() -> dict[str, str]:
    """The verdict code: our checker, the installed math-verify (whose parser also runs in
    extraction) and its LaTeX library, read from package metadata so sympy is not imported."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"checker": CHECKER_VERSION}
    # latex2sympy2_extended: its LaTeX normalization also runs in the parent's fast path
    for key, dist in (("math_verify", "math-verify"), ("latex2sympy2_extended", "latex2sympy2_extended")):
        try:
            out[key] = version(dist)
        except PackageNotFoundError:  # pragma: no cover - hard dependencies
            out[key] = "missing"
    return out


def extractor(cfg: JudgeConfig, parse: Callable[[str], str | None] | None = None
              ) -> Callable[..., Extraction]:
    """The configured answer extractor: ``run(text, finish_reason=None)``. ``parse`` is
    math-verify's parser (in-process when None)."""
    e = cfg.extract

    def run(text: str | None, finish_reason: str | None = None,
            parse_: Callable[[str], str | None] | None = None) -> Extraction:
        return extract_answer(text, e.order, e.think_tags, e.harmony, e.unclosed_think,
                              opened_think=e.opened_think, think_fallback=e.think_fallback,
                              finish_reason=finish_reason, on_length=e.on_length,
                              tail_chars=e.tail_chars, parse=parse_ or parse)

    return run


def extract_samples(samples: Sequence[dict[str, Any]], cfg: JudgeConfig,
                    parse_many: Callable[..., list[str | None]],
                    golds: Sequence[str | None] | None = None) -> list[Extraction]:
    """Extractions of a batch, with math-verify's parser run once over every text that needs it
    (``parse_many`` runs it in the worker pool). Two passes: the first records which texts the
    parser is asked about (answering "nothing found", which visits every text a later answer
    could need), the second replays the samples that asked, with the answers. With ``golds``
    (one per sample), ``parse_many(texts, golds)`` also gets the gold of the first sample that
    asked for each text (the checker verifies the resulting pair alongside the parse)."""
    run = extractor(cfg)
    asked: dict[str, str | None] = {}
    replay: list[int] = []
    out: list[Extraction] = []
    for i, s in enumerate(samples):
        calls: list[str] = []
        gold = golds[i] if golds is not None else None

        def collect(text: str) -> None:
            calls.append(text)
            asked.setdefault(text, gold)
            return None

        out.append(run(s.get("response"), s.get("finish_reason"), collect))
        if calls:
            replay.append(i)
    if not asked:
        return out
    texts = list(asked)
    found = parse_many(texts, [asked[t] for t in texts]) if golds is not None else parse_many(texts)
    answers = dict(zip(texts, found))
    for i in replay:
        s = samples[i]
        out[i] = run(s.get("response"), s.get("finish_reason"), answers.get)
    return out


@JUDGES.register("math")
class MathJudge(BaseJudge):
    name = "math"
    version = f"{MATH_VERSION}+x{EXTRACT_VERSION}+c{CHECKER_VERSION}+t{THINK_VERSION}"

    def __init__(self, cfg: JudgeConfig, checker: MathChecker | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.extract = extractor(cfg)
        self.checker = checker or MathChecker(cfg)
        self.stats.update(no_gold=0)

    @classmethod
    def code_versions(cls, cfg: JudgeConfig) -> dict[str, str]:
        return {**super().code_versions(cfg), **checker_versions()}

    def _start(self, groups: list[list[dict[str, Any]]]):
        """Extract every sample of the batch and start its checks; verdicts come from ``_finish``."""
        rows: list[tuple[Extraction, str | None]] = []
        pairs: list[tuple[str, str]] = []
        ctx: list[dict[str, Any]] = []
        where: list[int] = []
        golds = [extract_gold(g[0].get("answer")) for g in groups]
        exts = iter(extract_samples([s for g in groups for s in g], self.cfg, self.checker.parse_answers,
                                    [gold for gold, g in zip(golds, groups) for _ in g]))
        for group, gold in zip(groups, golds):
            for s in group:
                ext = next(exts)
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
