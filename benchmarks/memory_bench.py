"""Peak RSS of the judge, vote, select and format stages over 10k / 100k / 1M synthetic samples.

Why: these stages must stream their records (issue 11, item 7): memory may not grow with the
number of samples beyond a small constant. Each point runs the stage's real ``run`` (the code
``reasonkit stage=…`` runs) in its own process, started by a fresh wrapper process that reports
``getrusage(RUSAGE_CHILDREN).ru_maxrss``: the peak of that one stage process and anything it
waited for (verifier workers). A ``noop`` point (same imports, no records) is the baseline.

Synthetic data, chosen so 1M samples stay affordable on 2 cores: 4 samples per problem, gold
answers and responses are plain integers in ``\\boxed{}`` (the math judge decides those on its
fast path, without sympy; the verdict cache stays tiny), ~240-character responses with a short
``<think>`` block. About 3 in 4 responses are right.

    python benchmarks/memory_bench.py                       # 10k, 100k, 1M; all four stages
    python benchmarks/memory_bench.py --sizes 10000 --stages judge
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

STAGES = ("judge", "vote", "select", "format")
PER_PROBLEM = 4


def sample(i: int, rng: random.Random) -> dict:
    pid, k = divmod(i, PER_PROBLEM)
    gold = (pid * 7) % 1000
    said = gold if rng.random() < 0.75 else gold + 1 + rng.randrange(5)
    pad = "step " * rng.randrange(10, 30)
    return {"id": f"syn-{pid:07d}_{k}", "problem_id": f"syn-{pid:07d}", "k": k,
            "prompt": f"Problem {pid}: what is {gold} + 0? Put the final answer in \\boxed{{}}.",
            "answer": str(gold), "response": f"<think>{pad}</think> The answer is \\boxed{{{said}}}.",
            "model": "synthetic", "sampling": {"temperature": 1.0, "top_p": 1.0, "max_tokens": 48},
            "seed": i, "finish_reason": "stop", "n_prompt_tokens": 20, "n_completion_tokens": 10 + len(pad) // 5,
            "meta": {"a": gold, "b": 0, "op": "+"}}


def make_artifact(path: Path, n: int, judged: bool) -> Path:
    """A complete artifact of ``n`` samples (judged ones carry ``correct``), written streaming."""
    from reasonkit.pipeline.artifacts import SUCCESS, write_sharded

    if (path / SUCCESS).exists():
        return path
    path.mkdir(parents=True, exist_ok=True)
    rng = random.Random(n)

    def recs():
        for i in range(n):
            s = sample(i, rng)
            if judged:
                s.update(extracted=s["response"].rsplit("{", 1)[1].split("}")[0], judge="math@synthetic")
                s["correct"] = s["extracted"] == s["answer"]
            yield s
    write_sharded(path, recs())
    (path / SUCCESS).write_text("")
    return path


def work(stage: str, data: Path, out: Path) -> dict:
    """One stage's real ``run`` on the synthetic input (in the measured process)."""
    import logging

    from hydra import compose, initialize_config_dir

    from reasonkit import stages  # noqa: F401 - registers the stages
    from reasonkit.config import CONF_DIR, register
    from reasonkit.pipeline.artifacts import Artifact, ArtifactStore
    from reasonkit.pipeline.stage import STAGES as REGISTERED, StageContext

    register()
    over = {"judge": ["judge=math"], "vote": ["judge=vote"], "select": ["selection=correct"],
            "format": ["format=chat"], "noop": []}[stage]
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        cfg = compose("config", overrides=[*over, "judge.workers=1", f"paths.outputs={out}"])
    if stage == "noop":
        return {"records": 0}
    name = {"vote": "judge"}.get(stage, stage)
    needs = {"judge": "generate", "select": "judge", "format": "select"}[name]
    store = ArtifactStore(out / "artifacts")
    art = Artifact(out / "artifacts" / name / "bench-000000000000")
    art.path.mkdir(parents=True)
    ctx = StageContext(cfg=cfg, store=store, out=art, inputs={needs: Artifact(data)},
                       log=logging.getLogger("bench"))
    t0 = time.time()
    metrics = REGISTERED[name].run(ctx)
    n = sum(1 for sh in art.shards() for _ in open(sh, "rb"))
    return {"records_out": n, "seconds": round(time.time() - t0, 1),
            **{k: v for k, v in (metrics or {}).items() if isinstance(v, (int, float))}}


def point(stage: str, data: Path, workdir: Path) -> dict:
    """Run ``work`` in a child of a fresh process, so RUSAGE_CHILDREN sees that child alone."""
    code = ("import json, resource, subprocess, sys\n"
            "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
            "ru = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
            "print(json.dumps({'rc': p.returncode, 'maxrss_kb': ru.ru_maxrss, 'out': p.stdout[-2000:],"
            " 'err': p.stderr[-3000:], 'cpu_s': ru.ru_utime + ru.ru_stime}))\n")
    out = workdir / f"out-{stage}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-c", code, sys.executable, __file__, "--work", stage, str(data), str(out)]
    t0 = time.time()
    res = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    if res["rc"] != 0:
        raise RuntimeError(f"{stage} on {data}: exit {res['rc']}\n{res['err']}")
    shutil.rmtree(out, ignore_errors=True)
    return {"stage": stage, "peak_rss_mb": round(res["maxrss_kb"] / 1024, 1), "wall_s": round(time.time() - t0, 1),
            "cpu_s": round(res["cpu_s"], 1), **json.loads(res["out"].strip().splitlines()[-1])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--stages", nargs="+", default=list(STAGES), choices=STAGES)
    ap.add_argument("--workdir", type=Path, default=None, help="synthetic data (default: a temp dir, removed)")
    ap.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "memory_bench.json")
    ap.add_argument("--work", nargs=3, metavar=("STAGE", "DATA", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.work:
        stage, data, out = args.work
        print(json.dumps(work(stage, Path(data), Path(out))))
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="rk-membench-"))
    rows = [{"n": 0, **point("noop", workdir, workdir)}]
    print(json.dumps(rows[0]), flush=True)
    try:
        for n in args.sizes:
            raw = make_artifact(workdir / f"gen-{n}", n, judged=False)
            judged = make_artifact(workdir / f"judged-{n}", n, judged=True)
            for stage in args.stages:
                # select reads judged samples; format reads the selection, i.e. judged samples too
                rows.append({"n": n, **point(stage, raw if stage in ("judge", "vote") else judged, workdir)})
                print(json.dumps(rows[-1]), flush=True)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "command": " ".join([Path(sys.executable).name, *sys.argv]), "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}", "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
