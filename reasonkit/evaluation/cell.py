"""One eval cell: n samples per problem from one model on one benchmark, judged by the cell's own
judge, written as ``samples.jsonl`` and summarised (avg@n ± s.e., bootstrap interval, pass@k,
maj@k, breakdowns)."""
from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from reasonkit.data import benchmark_code
from reasonkit.data import benchmarks as bm
from reasonkit.evaluation import grid
from reasonkit.evaluation.metrics import bootstrap_ci, breakdown, summarize
from reasonkit.evaluation.pools import SharedPools
from reasonkit.pipeline.artifacts import write_shard

MATH_EQUIVALENCE = ("math", "vote", "judge_vote")


def for_judge(samples: Iterable[dict[str, Any]], jcfg: Any) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(original, what the judge sees). HumanEval: the judge runs the model's function with the
    dataset's ``check`` as one program (benchmark_code.humaneval_program); other samples pass through."""
    from reasonkit.judging.extract import extract_code

    e = jcfg.extract
    for s in samples:
        he = (s.get("meta") or {}).get("humaneval")
        if not he:
            yield s, s
            continue
        code = extract_code(s.get("response"), think_tags=e.think_tags, harmony=e.harmony, unclosed=e.unclosed_think).answer
        view = dict(s)
        view["response"] = f"```python\n{benchmark_code.humaneval_program(code, he)}\n```" if code else ""
        yield s, view


def judged(judge: Any, batch: list[dict[str, Any]], jcfg: Any) -> list[dict[str, Any]]:
    pairs = list(for_judge(batch, jcfg))
    out = []
    for (orig, _), v in zip(pairs, judge.judge([v for _, v in pairs])):
        if v is not orig:  # keep the model's own response in the record, the verdict from the view
            v = {**v, "response": orig["response"]}
        out.append(v)
    return out


def run_cell(ctx: Any, m: grid.EvalModel, s: bm.BenchmarkConfig, engine: Any, tok: Any,
             problems: list[dict[str, Any]], out: Path, pools: SharedPools | None = None) -> dict[str, Any]:
    from reasonkit.generation.samples import generate_samples
    from reasonkit.judging import build_judge
    from reasonkit.prompts import load_prompt

    cfg = ctx.cfg
    jcfg = grid.judge_config(cfg, s)
    raw = load_prompt(s.prompt).raw
    judge = build_judge(jcfg)
    checker, own_checker = None, False
    if jcfg.name in MATH_EQUIVALENCE:  # maj@k clusters answers by math equivalence
        checker = getattr(judge, "checker", None)  # the judge's own verifier pool, already warm
        if checker is None:
            from reasonkit.judging.mathcheck import MathChecker

            checker, own_checker = MathChecker(jcfg), True
    lent = [c for c in {id(c): c for c in (getattr(judge, "checker", None), checker) if c is not None}.values()
            if pools is not None and pools.lend(c)]  # the run's warm workers, not a pool per cell
    groups: dict[str, list[tuple[str | None, bool]]] = {}
    meta = {p["id"]: p.get("meta") or {} for p in problems}
    timing = {"generate": 0.0, "judge": 0.0}
    t0 = time.time()
    try:
        def records() -> Iterator[dict[str, Any]]:
            gen = generate_samples(
                engine, tok, problems, n=s.n, seed=cfg.eval.seed, sampling=dict(s.sampling), model_name=m.name,
                system=m.mcfg.system_prompt, batch_problems=max(1, cfg.sampler.batch_size // s.n),
                chat=bool(cfg.sampler.chat) and not raw, progress=f"eval {m.row} × {s.name}")
            while True:
                t = time.time()
                batch = next(gen, None)
                timing["generate"] += time.time() - t
                if batch is None:
                    return
                t = time.time()
                done = judged(judge, batch, jcfg)
                timing["judge"] += time.time() - t
                for r in done:
                    r["meta"] = {k: v for k, v in (r.get("meta") or {}).items() if k not in ("tests", "humaneval")}
                    groups.setdefault(r["problem_id"], []).append((r.get("extracted"), bool(r["correct"])))
                    yield r

        n_written = write_shard(out / "samples.jsonl", records())
        per_problem = [sum(c for _, c in g) / len(g) for g in groups.values()]
        met: dict[str, Any] = summarize(groups, list(s.ks), checker.equal if checker else None)
    finally:
        for c in lent:
            pools.take_back(c)  # type: ignore[union-attr]
        judge.close()
        if own_checker:
            checker.close()
    lo, hi = bootstrap_ci(per_problem, cfg.eval.bootstrap, cfg.eval.seed)
    met.update(ci95=[lo, hi], samples=n_written, judge=judge.tag, prompt=s.prompt,
               breakdown=breakdown(groups, meta, s.breakdown),
               seconds={"total": round(time.time() - t0, 3), "generate": round(timing["generate"], 3),
                        "judge": round(timing["judge"], 3)},
               judge_stats={k: v for k, v in judge.stats.items() if isinstance(v, (int, float, str))})
    return met
