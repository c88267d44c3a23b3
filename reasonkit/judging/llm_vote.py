"""``judge=llm_vote``: the teacher clusters a problem's n extracted answers and replies with a JSON
object of counts ``{answer: count}`` (ReasonLite's LLM vote), beside ``judge=vote``, which clusters
by math-verify equivalence.

The winning answer (largest count, first listed on ties) is the pseudo-label. It must be one of the
listed answers (spelling-insensitive, ``normalize.answer_key``): a winner the model made up, counts
that are not positive integers, or counts summing to more answers than were listed are recorded
parse errors (no label, every sample of the problem false), never a guess. A sample is correct when
its answer has the winner's key; the model's count for the winner decides confidence (share of
all n samples ≥ min_share and count ≥ min_count), as in ``judge=vote``. Why membership by key and
not by the model's clusters: ``{answer: count}`` names no members, and asking for them doubles the
reply length; ``meta.vote.matched`` records how many samples the key matched, beside the model's
``count``, so a model that merged other spellings is visible.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from reasonkit.think import THINK_VERSION

from ..engines.base import Engine, GenRequest, sample_seed
from .base import JUDGES, iter_batches
from .config import JudgeConfig
from .extract import EXTRACT_VERSION, strip_reasoning
from .llm import EngineJudge, last_json_object
from .normalize import answer_key

LLM_VOTE_VERSION = "1"


class CountsParseError(ValueError):
    pass


def parse_counts(text: str, answers: list[str], think_tags=("think",)) -> dict[str, int]:
    """The last JSON object in ``text`` (after its reasoning) that is a valid ``{answer: count}``
    for these ``answers``, in the model's order."""
    keys = {answer_key(a) for a in answers}

    def problems_of(obj: dict) -> list[str]:
        if not obj:
            return ["it is empty"]
        bad = [f"count of {k!r} is {v!r}" for k, v in obj.items()
               if not isinstance(v, int) or isinstance(v, bool) or v < 0]
        if not bad and sum(obj.values()) > len(answers):
            bad.append(f"counts sum to {sum(obj.values())} but {len(answers)} answers were listed")
        if not bad and max(obj.values()) < 1:
            bad.append("no answer has a positive count")
        if not bad and answer_key(str(winner(obj))) not in keys:
            bad.append(f"the winning answer {winner(obj)!r} is not one of the listed answers")
        return bad

    obj = last_json_object(strip_reasoning(text or "", think_tags), problems_of, "of answer counts",
                           CountsParseError)
    return {str(k): v for k, v in obj.items()}


def winner(counts: dict[str, int]) -> str:
    best = max(counts.values())
    return next(k for k, v in counts.items() if v == best)


@JUDGES.register("llm_vote")
class LLMVoteJudge(EngineJudge):
    name = "llm_vote"
    version = f"{LLM_VOTE_VERSION}+x{EXTRACT_VERSION}+t{THINK_VERSION}"

    def __init__(self, cfg: JudgeConfig, engine: Engine, render: Callable[[str], str] | None = None) -> None:
        super().__init__(cfg, engine, render)
        self.stats.update(problems=0, confident=0, ties=0, label_source={"llm_vote": 0, "none": 0})

    def _prompt(self, group: list[dict[str, Any]], answers: list[str]) -> str:
        listed = "\n".join(f"{i}. {a}" for i, a in enumerate(answers, 1))
        return self.cfg.llm_vote.prompt.format(prompt=group[0].get("prompt", ""), answers=listed, n=len(answers))

    def judge(self, samples: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        lv = self.cfg.llm_vote
        for groups in iter_batches(samples, lv.batch_size, check_consecutive=True):
            exts = [[self.extract(s.get("response"), s.get("finish_reason")) for s in g] for g in groups]
            asked: list[int] = []
            reqs: list[GenRequest] = []
            for p, (g, es) in enumerate(zip(groups, exts)):
                answers = [e.answer for e in es if e.answer is not None]
                if answers:  # nothing to cluster otherwise
                    rid = f"{g[0]['problem_id']}#vote"
                    reqs.append(GenRequest(prompt=self.render(self._prompt(g, answers)), ids=[rid],
                                           seeds=[sample_seed(lv.seed, rid)]))
                    asked.append(p)
            outs = self.engine.generate(reqs, dict(lv.sampling)) if reqs else []
            if len(outs) != len(reqs):
                raise RuntimeError(f"engine {getattr(self.engine, 'name', '?')} returned {len(outs)} "
                                   f"completion lists for {len(reqs)} requests")
            self.stats["requests"] += len(reqs)
            replies = {p: (c[0].text if c else "") for p, c in zip(asked, outs)}
            for p, (g, es) in enumerate(zip(groups, exts)):
                yield from self._label(g, es, replies.get(p))

    def _label(self, g: list[dict[str, Any]], es: list[Any], reply: str | None) -> Iterator[dict[str, Any]]:
        n = len(g)
        summ: dict[str, Any] = {"answer": None, "count": 0, "matched": 0, "share": 0.0, "n": n,
                                "confident": False, "tie": False, "tallies": []}
        error = None
        if reply is not None:
            answers = [e.answer for e in es if e.answer is not None]
            try:
                counts = parse_counts(reply, answers, tuple(self.cfg.extract.think_tags))
                win = winner(counts)
                key = answer_key(win)
                count = counts[win]
                share = count / n
                summ.update(answer=win, count=count, share=round(share, 6),
                            matched=sum(e.answer is not None and answer_key(e.answer) == key for e in es),
                            confident=bool(share >= self.cfg.min_share and count >= self.cfg.min_count),
                            tie=sum(v == count for v in counts.values()) > 1,
                            tallies=[[k, v] for k, v in sorted(counts.items(), key=lambda kv: -kv[1])][:20])
            except CountsParseError as e:
                error = str(e)
                self.stats["parse_errors"] += 1
        self.stats["problems"] += 1
        self.stats["confident"] += summ["confident"]
        self.stats["ties"] += summ["tie"]
        source = "llm_vote" if summ["answer"] is not None else "none"
        self.stats["label_source"][source] += n
        key = answer_key(summ["answer"]) if summ["answer"] is not None else None
        for s, e in zip(g, es):
            meta: dict[str, Any] = {"extract_method": e.method, "vote": summ}
            if reply is not None:
                meta["vote_reply"] = reply[:2000]
            if error:
                meta["judge_error"] = error
            ok = key is not None and e.answer is not None and answer_key(e.answer) == key
            self._verdict(s, e.answer, ok, **meta)
            s["label_source"] = source
            yield s
