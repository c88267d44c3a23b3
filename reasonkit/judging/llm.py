"""``judge=llm``: a judge prompt sent through any ``Engine``; the reply is parsed with a schema.

Why a JSON schema and not a "Verdict:" regex: a judge model that rambles, thinks aloud or quotes
the candidate can only pass by emitting ``{"correct": <bool>, ...}``; anything else is a recorded
parse error (verdict false), never a guess.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from reasonkit.think import THINK_VERSION

from ..engines.base import Engine, GenRequest, sample_seed
from .base import JUDGES, BaseJudge
from .config import JudgeConfig
from .extract import EXTRACT_VERSION, strip_reasoning
from .math_judge import extractor

LLM_VERSION = "2"

VERDICT_SCHEMA: dict[str, type | tuple[type, ...]] = {"correct": bool}  # required keys
OPTIONAL_KEYS: dict[str, type | tuple[type, ...]] = {"reason": str, "extracted": (str, int, float)}


class VerdictParseError(ValueError):
    pass


def last_json_object(body: str, problems_of: Callable[[Any], list[str]], what: str,
                     error: type[ValueError]) -> dict[str, Any]:
    """The last JSON object in ``body`` for which ``problems_of`` finds nothing wrong; otherwise
    ``error`` naming the closest candidate's problems. Models quote examples and change their minds:
    the last object that fits is their answer."""
    dec = json.JSONDecoder()
    problems = []
    for i in reversed([i for i, ch in enumerate(body) if ch == "{"][-50:]):
        try:
            obj, _ = dec.raw_decode(body, i)
        except json.JSONDecodeError:
            continue
        if not isinstance(obj, dict):
            continue
        bad = problems_of(obj)
        if not bad:
            return obj
        problems.append("; ".join(bad))
    detail = f" (closest: {problems[0]})" if problems else ""
    raise error(f"no JSON object {what} in the reply{detail}")


def parse_verdict(text: str, think_tags=("think",)) -> dict[str, Any]:
    """The last JSON object in ``text`` (after its reasoning) that fits the schema."""
    def problems_of(obj: dict) -> list[str]:
        bad = [f"'{k}' must be {t.__name__ if isinstance(t, type) else '/'.join(x.__name__ for x in t)}"
               for k, t in VERDICT_SCHEMA.items() if not isinstance(obj.get(k), t)]
        return bad + [f"'{k}' has type {type(obj[k]).__name__}" for k, t in OPTIONAL_KEYS.items()
                      if k in obj and not isinstance(obj[k], t)]

    return last_json_object(strip_reasoning(text or "", think_tags), problems_of,
                            'with a boolean "correct"', VerdictParseError)


class EngineJudge(BaseJudge):
    """A judge that asks a model through an ``Engine`` (``needs_engine``): ``judge=llm``,
    ``judge=llm_vote``."""

    needs_engine = True

    @classmethod
    def from_config(cls, cfg: JudgeConfig, engine: Any = None, render: Any = None) -> EngineJudge:
        return cls(cfg, engine, render)

    @classmethod
    def code_versions(cls, cfg: JudgeConfig) -> dict[str, str]:
        from .math_judge import checker_versions

        # the answers it shows the model come from the extractor, whose fallback is math-verify's parser
        return {**super().code_versions(cfg), "math_verify": checker_versions()["math_verify"]}

    def __init__(self, cfg: JudgeConfig, engine: Engine, render: Callable[[str], str] | None = None) -> None:
        super().__init__()
        if engine is None:
            raise ValueError(f"judge={self.name} needs an engine: build_judge(cfg, engine=...)")
        self.cfg = cfg
        self.engine = engine
        self.render = render or (lambda text: text)
        self.extract = extractor(cfg)
        self.stats.update(parse_errors=0, requests=0)


@JUDGES.register("llm")
class LLMJudge(EngineJudge):
    name = "llm"
    version = f"{LLM_VERSION}+x{EXTRACT_VERSION}+t{THINK_VERSION}"

    def _prompt(self, s: dict[str, Any]) -> str:
        response = s.get("response") or ""
        if self.cfg.llm.strip_reasoning:
            e = self.cfg.extract
            response = strip_reasoning(response, e.think_tags, e.harmony, e.unclosed_think,
                                       e.opened_think).strip()
        return self.cfg.llm.prompt.format(prompt=s.get("prompt", ""), response=response,
                                          answer=s.get("answer") or "", extracted=s.get("extracted") or "")

    def judge(self, samples: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        for s in samples:
            batch.append(s)
            if len(batch) >= self.cfg.llm.batch_size:
                yield from self._run(batch)
                batch = []
        if batch:
            yield from self._run(batch)

    def _run(self, batch: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        lc = self.cfg.llm
        reqs = []
        for s in batch:
            jid = f"{s['id']}#judge"
            reqs.append(GenRequest(prompt=self.render(self._prompt(s)), ids=[jid],
                                   seeds=[sample_seed(lc.seed, jid)]))
        outs = self.engine.generate(reqs, dict(lc.sampling))
        self.stats["requests"] += len(reqs)
        if len(outs) != len(batch):
            raise RuntimeError(f"engine {getattr(self.engine, 'name', '?')} returned {len(outs)} "
                               f"completion lists for {len(batch)} requests")
        for s, comps in zip(batch, outs):
            reply = comps[0].text if comps else ""
            ext = self.extract(s.get("response"), s.get("finish_reason"))
            meta: dict[str, Any] = {"extract_method": ext.method, "judge_reply": reply[:2000]}
            try:
                obj = parse_verdict(reply, tuple(self.cfg.extract.think_tags))
                ok = obj["correct"]
                if "reason" in obj:
                    meta["judge_reason"] = obj["reason"]
            except VerdictParseError as e:
                self.stats["parse_errors"] += 1
                ok = False
                meta["judge_error"] = str(e)
            self._verdict(s, ext.answer, ok, **meta)
            s["label_source"] = "llm"
            yield s
