"""Judge interface. A judge is a pure, versioned function of a sample record (and config): it
adds ``extracted``, ``correct`` and ``judge`` (``<name>@<version>``) and never looks at anything
else, so verdicts can be cached and re-checked from JSON case files."""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Protocol

from reasonkit.records import SeenIds
from reasonkit.registry import Registry

# ``conf/judge/<name>.yaml`` → the module whose class registers ``<name>`` (imported on first use)
JUDGES: Registry = Registry("judge", "reasonkit.judging", modules={
    "math": "math_judge", "vote": "vote", "judge_vote": "vote", "code": "code_judge",
    "choice": "choice", "critique": "choice", "llm": "llm",
    "llm_vote": "llm_vote"})


class Judge(Protocol):
    name: str
    version: str

    def judge(self, samples: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Yield each sample (same order) with verdict fields filled in."""
        ...

    def close(self) -> None: ...


class JudgeInputError(ValueError):
    """Samples that break the judge's input contract (e.g. a problem's samples not consecutive)."""


def iter_groups(samples: Iterable[dict[str, Any]], check_consecutive: bool = True
                ) -> Iterator[list[dict[str, Any]]]:
    """Consecutive samples of one problem as lists. A problem id seen again after its group
    closed means the input was not grouped, which would silently split a vote: refuse it."""
    seen = SeenIds()  # ~8 bytes per problem: memory flat in the number of samples
    group: list[dict[str, Any]] = []
    for n, s in enumerate(samples, 1):
        pid = s.get("problem_id")
        if pid is None:
            raise JudgeInputError(f"sample #{n} (id {s.get('id')!r}): field 'problem_id': missing")
        if group and pid != group[0]["problem_id"]:
            yield group
            group = []
        if not group and check_consecutive:
            if pid in seen:
                raise JudgeInputError(
                    f"sample #{n} (id {s.get('id')!r}): field 'problem_id': {pid!r} appeared again "
                    "after other problems; expected all samples of a problem to be consecutive")
            seen.add(pid)
        group.append(s)
    if group:
        yield group


def iter_batches(samples: Iterable[dict[str, Any]], batch_size: int,
                 check_consecutive: bool = False) -> Iterator[list[list[dict[str, Any]]]]:
    """Whole problem groups, about ``batch_size`` samples per batch: memory stays bounded and
    every batch is big enough to keep the worker pool busy."""
    batch: list[list[dict[str, Any]]] = []
    n = 0
    for group in iter_groups(samples, check_consecutive):
        batch.append(group)
        n += len(group)
        if n >= batch_size:
            yield batch
            batch, n = [], 0
    if batch:
        yield batch


class BaseJudge:
    """Shared plumbing: version string, stats, verdict bookkeeping, context manager."""

    name = "base"
    version = "0"
    # True for judges that ask a model (the run's teacher through the sampler's backend): their
    # verdicts depend on that model and sampler, which then join the judge artifact's identity.
    needs_engine = False

    def __init__(self) -> None:
        self.stats: dict[str, Any] = {"samples": 0, "correct": 0, "extracted": 0, "no_answer": 0}

    @property
    def tag(self) -> str:
        return f"{self.name}@{self.version}"

    def _verdict(self, s: dict[str, Any], extracted: str | None, correct: bool, **meta: Any) -> None:
        s["extracted"] = extracted
        s["correct"] = bool(correct)
        s["judge"] = self.tag
        if meta:
            m = s.get("meta")
            if not isinstance(m, dict):
                m = s["meta"] = {}
            m.update(meta)
        st = self.stats
        st["samples"] += 1
        st["correct"] += bool(correct)
        if extracted is None:
            st["no_answer"] += 1
        else:
            st["extracted"] += 1

    @classmethod
    def from_config(cls, cfg: Any, engine: Any = None, render: Any = None) -> "BaseJudge":
        """What ``build_judge`` calls; only judges that need an engine look at it."""
        return cls(cfg)

    @classmethod
    def code_versions(cls, cfg: Any) -> dict[str, str]:
        """Versions of every piece of code this judge runs under ``cfg`` (its artifact hash
        covers them). Judges that run more code add theirs."""
        from reasonkit.think import THINK_VERSION

        from .extract import EXTRACT_VERSION

        return {"judge": f"{cls.name}@{cls.version}", "extract": EXTRACT_VERSION,
                "think": THINK_VERSION}

    def judge(self, samples: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> "BaseJudge":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
