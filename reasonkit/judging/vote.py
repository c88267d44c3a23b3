"""Majority vote over semantically equal answers, pseudo-labels, and maj@k.

Why clusters and not strings: ``\\frac{1}{2}``, ``0.5`` and ``1/2`` are one answer; a string
vote splits it three ways and can crown a wrong answer written consistently. Clustering is
greedy against representatives (largest string group first), which is deterministic and needs
at most (#distinct answers × #clusters) equivalence checks, batched across all problems of a
round so the verifier pool stays busy.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence

from reasonkit.think import THINK_VERSION

from .base import JUDGES, BaseJudge, iter_batches
from .config import JudgeConfig
from .extract import EXTRACT_VERSION, extract_gold
from .math_judge import MathJudge, checker_versions, extract_samples
from .mathcheck import CHECKER_VERSION, MathChecker
from .normalize import answer_key

VOTE_VERSION = "2"

EqualFn = Callable[[list[tuple[str, str]]], list[bool]]


@dataclass
class Cluster:
    answer: str  # representative: the most frequent spelling, first seen on ties
    members: list[int] = field(default_factory=list)  # indices into the answers list

    @property
    def count(self) -> int:
        return len(self.members)


def cluster_many(answer_lists: Sequence[Sequence[str | None]], equal: EqualFn | None = None
                 ) -> list[list[Cluster]]:
    """Clusters for several problems at once (one ``equal`` call per round for all of them).

    Answers with the same ``answer_key`` always share a cluster; ``equal`` (e.g.
    ``MathChecker.equal``) merges the rest. ``None`` answers belong to no cluster. Clusters come
    largest first, ties by first occurrence.
    """
    pending: list[list[Cluster]] = []  # per problem: string groups not yet assigned
    done: list[list[Cluster]] = [[] for _ in answer_lists]
    for answers in answer_lists:
        groups: dict[str, Cluster] = {}
        for i, a in enumerate(answers):
            if a is None:
                continue
            key = answer_key(a)
            if key not in groups:
                groups[key] = Cluster(a)
            groups[key].members.append(i)
        pending.append(sorted(groups.values(), key=lambda c: (-c.count, c.members[0])))
    while any(pending):
        pairs: list[tuple[str, str]] = []
        spans: list[tuple[int, int]] = []
        for p, groups in enumerate(pending):
            if not groups:
                continue
            rep = groups[0]
            start = len(pairs)
            if equal is not None:
                pairs.extend((rep.answer, g.answer) for g in groups[1:])
            spans.append((p, start))
        same = equal(pairs) if (equal is not None and pairs) else [False] * len(pairs)
        for p, start in spans:
            groups = pending[p]
            rep, rest = groups[0], groups[1:]
            merged = Cluster(rep.answer, list(rep.members))
            keep = []
            for j, g in enumerate(rest):
                if equal is not None and same[start + j]:
                    merged.members.extend(g.members)
                else:
                    keep.append(g)
            merged.members.sort()
            done[p].append(merged)
            pending[p] = keep
    return [sorted(cs, key=lambda c: (-c.count, c.members[0])) for cs in done]


def cluster_answers(answers: Sequence[str | None], equal: EqualFn | None = None) -> list[Cluster]:
    """Equivalence clusters of one problem's extracted answers (what eval needs for maj@k)."""
    return cluster_many([answers], equal)[0]


def cluster_ids(clusters: Sequence[Cluster], n: int) -> list[int | None]:
    """Per answer, the index of its cluster (None for no answer)."""
    ids: list[int | None] = [None] * n
    for c_idx, c in enumerate(clusters):
        for i in c.members:
            ids[i] = c_idx
    return ids


def maj_at_k(ids: Sequence[int | None], correct: Sequence[bool], k: int) -> bool:
    """Majority vote over the first ``k`` samples: is the most common cluster correct? Ties go to
    the cluster seen first; no answer at all counts as wrong."""
    counts: Counter[int] = Counter()
    first: dict[int, int] = {}
    for i, c in enumerate(ids[:k]):
        if c is not None:
            counts[c] += 1
            first.setdefault(c, i)
    if not counts:
        return False
    best = max(counts, key=lambda c: (counts[c], -first[c]))
    return bool(correct[first[best]])


# ----------------------------------------------------------------------------- judges


def vote_summary(clusters: Sequence[Cluster], n: int, min_share: float, min_count: int,
                 top: int = 20) -> dict[str, Any]:
    """What every sample of a problem carries in ``meta.vote``. ``share`` is over all ``n``
    samples, answered or not: an answer most samples failed to produce is not a confident label."""
    if not clusters:
        return {"answer": None, "count": 0, "share": 0.0, "n": n, "confident": False,
                "tie": False, "tallies": []}
    win = clusters[0]
    share = win.count / n if n else 0.0
    return {"answer": win.answer, "count": win.count, "share": round(share, 6), "n": n,
            "confident": bool(share >= min_share and win.count >= min_count),
            "tie": len(clusters) > 1 and clusters[1].count == win.count,
            "tallies": [[c.answer, c.count] for c in clusters[:top]]}


@JUDGES.register("vote")
class VoteJudge(BaseJudge):
    """``judge=vote``: the majority answer is the pseudo-label; a sample is correct when it is in
    the winning cluster. ``meta.vote.confident`` says whether the vote meets min_share/min_count."""

    name = "vote"
    version = f"{VOTE_VERSION}+x{EXTRACT_VERSION}+c{CHECKER_VERSION}+t{THINK_VERSION}"

    def __init__(self, cfg: JudgeConfig, checker: MathChecker | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.checker = checker or MathChecker(cfg)
        self.stats.update(problems=0, confident=0, ties=0,
                          label_source={"vote": 0, "dataset": 0, "none": 0})

    @classmethod
    def code_versions(cls, cfg: JudgeConfig) -> dict[str, str]:
        return {**super().code_versions(cfg), **checker_versions()}

    def _votes(self, groups: list[list[dict[str, Any]]]):
        flat = iter(extract_samples([s for g in groups for s in g], self.cfg, self.checker.parse_answers))
        exts = [[next(flat) for _ in g] for g in groups]
        clusters = cluster_many([[e.answer for e in es] for es in exts], self.checker.equal)
        summaries = []
        for g, cs in zip(groups, clusters):
            summ = vote_summary(cs, len(g), self.cfg.min_share, self.cfg.min_count)
            summaries.append(summ)
            self.stats["problems"] += 1
            self.stats["confident"] += summ["confident"]
            self.stats["ties"] += summ["tie"]
        return exts, clusters, summaries

    def judge(self, samples: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for groups in iter_batches(samples, self.cfg.batch_size, check_consecutive=True):
            exts, clusters, summaries = self._votes(groups)
            for g, es, cs, summ in zip(groups, exts, clusters, summaries):
                ids = cluster_ids(cs, len(g))
                source = "vote" if summ["answer"] is not None else "none"
                self.stats["label_source"][source] += len(g)
                for s, e, cid in zip(g, es, ids):
                    self._verdict(s, e.answer, cid == 0, extract_method=e.method, vote=summ,
                                  cluster=cid)
                    s["label_source"] = source
                    yield s
            self.stats.update(self.checker.stats)

    def close(self) -> None:
        self.checker.close()
        self.stats.update(self.checker.stats)


@JUDGES.register("judge_vote")
class JudgeVoteJudge(VoteJudge):
    """``judge=judge_vote``: against the vote where it is confident (share ≥ min_share and
    count ≥ min_count), else against the dataset label; ``label_source`` says which."""

    name = "judge_vote"
    version = f"{VOTE_VERSION}+x{EXTRACT_VERSION}+c{CHECKER_VERSION}+t{THINK_VERSION}"

    def __init__(self, cfg: JudgeConfig, checker: MathChecker | None = None) -> None:
        super().__init__(cfg, checker)
        self.stats.update(vote_vs_dataset={"agree": 0, "disagree": 0})

    def judge(self, samples: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for groups in iter_batches(samples, self.cfg.batch_size, check_consecutive=True):
            exts, clusters, summaries = self._votes(groups)
            golds = [extract_gold(g[0].get("answer")) for g in groups]
            # one batch of checks: every sample of a non-confident problem against its gold, and
            # each confident vote against its gold (to report how often the two labels agree)
            pairs: list[tuple[str, str]] = []
            ctx: list[dict[str, Any]] = []
            slots: dict[tuple[int, int], int] = {}
            for p, (g, es, summ, gold) in enumerate(zip(groups, exts, summaries, golds)):
                if gold is None:
                    continue
                if summ["confident"]:
                    slots[(p, -1)] = len(pairs)
                    pairs.append((gold, summ["answer"]))
                    ctx.append({"problem_id": g[0].get("problem_id"), "sample_id": None})
                else:
                    for k, (s, e) in enumerate(zip(g, es)):
                        if e.answer is not None:
                            slots[(p, k)] = len(pairs)
                            pairs.append((gold, e.answer))
                            ctx.append({"problem_id": s.get("problem_id"), "sample_id": s.get("id")})
            verdicts = self.checker.check(pairs, ctx)
            for p, (g, es, cs, summ, gold) in enumerate(zip(groups, exts, clusters, summaries, golds)):
                ids = cluster_ids(cs, len(g))
                if summ["confident"]:
                    source = "vote"
                    if (p, -1) in slots:
                        agree = verdicts[slots[(p, -1)]].correct
                        self.stats["vote_vs_dataset"]["agree" if agree else "disagree"] += 1
                elif gold is not None:
                    source = "dataset"
                else:
                    source = "none"
                self.stats["label_source"][source] += len(g)
                for k, (s, e, cid) in enumerate(zip(g, es, ids)):
                    meta: dict[str, Any] = {"extract_method": e.method, "vote": summ, "cluster": cid}
                    if source == "vote":
                        ok = cid == 0
                    elif source == "dataset" and (p, k) in slots:
                        v = verdicts[slots[(p, k)]]
                        ok = v.correct
                        meta["verdict"] = v.how
                    else:
                        ok = False
                    self._verdict(s, e.answer, ok, **meta)
                    s["label_source"] = source
                    yield s
            self.stats.update(self.checker.stats)


__all__ = ["Cluster", "cluster_answers", "cluster_many", "cluster_ids", "maj_at_k", "vote_summary",
           "VoteJudge", "JudgeVoteJudge", "MathJudge"]
