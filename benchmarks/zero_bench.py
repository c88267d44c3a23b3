"""DeepSpeed ZeRO-2 / ZeRO-3 SFT on 2 GPUs against 1 GPU at the same global batch (issue 17 item 1).

Each configuration is launched the way the train stage launches it: the command comes from
``reasonkit.training.stage.command`` for the preset (``trainer=sft_gpu`` → ``python``,
``sft_gpu_zero2/3`` → ``accelerate launch --config_file launchers/accelerate/deepspeed_zero{2,3}.yaml``),
with only the tail ``-m reasonkit.training.entry <frozen>`` swapped for this file's ``--worker``, which
does what ``entry.main`` does (``entry.load_model`` then ``entry.build_trainer``) plus timing hooks.
Presets are read from conf/trainer/<name>.yaml, following their ``defaults`` list.

Same global batch: sft_gpu packs one 16,384-token row per device step; 2 GPUs × 1 row (ZeRO) against
1 GPU × 1 row × ``gradient_accumulation_steps=2``. Same seed, same weights (one saved random-weight
Qwen2.5 folder per shape, loaded by every run), same rows; accelerate's seedable sampler gives rank r
the batches r, r+2, … of the one order the 1-GPU run walks in pairs — checked per step by a
fingerprint (sum of input ids, real tokens) of every micro-batch.

Counted: tokens = real tokens of the packed rows in the timed steps (train_bench.row_lengths),
summed over ranks; time = rank 0's wall clock between step ends (CUDA-synchronised), ``--steps``
optimizer steps after ``--warmup``. Speed-up = 2-GPU tokens/s ÷ 1-GPU tokens/s; scaling efficiency =
speed-up ÷ 2. Peak memory = ``torch.cuda.max_memory_allocated`` / ``max_memory_reserved`` per rank.
Losses and grad norms are what the Trainer logs (logging_steps=1) on rank 0.

Every configuration runs in its own process group with its own timeout; results are written after
each one, so a failure or the ``--deadline`` keeps what finished.

On the GPU machine (DeepSpeed's wheels in their own folder, on the path of the DeepSpeed jobs only):

    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site_ds .whl/ds/*.whl
    export PYTHONPATH=/tmp/site:$PWD
    python3 benchmarks/zero_bench.py --out $OUT/multi_gpu_zero_h200x2.json --ds-site /tmp/site_ds
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

VOCAB = 151936
# Stated before the run: step 1 (same weights, same rows, no update yet) must agree to LOSS_TOL_STEP1;
# every logged step to LOSS_TOL (0.1 % of a loss of ~12); grad norms to GRAD_RTOL relative.
LOSS_TOL_STEP1 = 1e-3
LOSS_TOL = 1e-2
GRAD_RTOL = 0.05

# label -> (preset, processes, extra spec keys, extra trainer args)
CONFIGS: dict[str, tuple[str, int, dict[str, Any], dict[str, Any]]] = {
    "1gpu": ("sft_gpu", 1, {}, {"gradient_accumulation_steps": 2}),
    "zero2": ("sft_gpu_zero2", 2, {}, {}),
    "zero3": ("sft_gpu_zero3", 2, {}, {}),
    # the 1-GPU preset trains bf16 weights in place; DeepSpeed keeps fp32 master weights. This row
    # loads the same (bf16-exact) weights as fp32 under bf16 autocast: the same update precision.
    "1gpu_fp32master": ("sft_gpu", 1, {"dtype": "float32"}, {"gradient_accumulation_steps": 2}),
}
# run order (phases run one after the other; jobs inside a phase run at once, on different GPUs)
PLAN: list[list[tuple[str, str, str]]] = [
    [("qwen2.5-0.5b", "1gpu", "0"), ("qwen2.5-1.5b", "1gpu", "1")],
    [("qwen2.5-0.5b", "zero2", "0,1")],
    [("qwen2.5-0.5b", "zero3", "0,1")],
    [("qwen2.5-1.5b", "zero2", "0,1")],
    [("qwen2.5-1.5b", "zero3", "0,1")],
    [("qwen2.5-0.5b", "1gpu_fp32master", "0"), ("qwen2.5-1.5b", "1gpu_fp32master", "1")],
]
CPU_TEST_ARGS = {"use_cpu": True, "bf16": False, "use_liger_kernel": False, "dataloader_num_workers": 0,
                 "max_length": 2048, "pad_to_multiple_of": 2048}


def preset(name: str) -> dict[str, Any]:
    """conf/trainer/<name>.yaml with its same-group ``defaults`` merged under it (args and
    model_kwargs merged key by key), as Hydra composes the trainer group."""
    raw = yaml.safe_load((ROOT / "conf" / "trainer" / f"{name}.yaml").read_text())
    out: dict[str, Any] = {}
    for base in raw.pop("defaults", []) or []:
        if base != "_self_":
            out = merge(out, preset(base))
    return merge(out, raw)


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        out[k] = {**out[k], **v} if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def launch_cmd(p: dict[str, Any], worker_spec: Path, port: int) -> tuple[list[str], str]:
    """The train stage's launch command for preset ``p``, its entry tail replaced by our worker."""
    trainer = {"launcher": "python", "num_processes": 1, "accelerate_config": None, **p}
    try:
        from omegaconf import OmegaConf

        from reasonkit.training.stage import command

        cmd = command(OmegaConf.create({"trainer": trainer}), Path("FROZEN"))
        assert cmd[-3:] == ["-m", "reasonkit.training.entry", "FROZEN"], cmd
        head, how = cmd[:-3], "reasonkit.training.stage.command"
    except ImportError as e:  # same shape by hand, recorded as such
        how = f"by hand ({e})"
        head = [sys.executable]
        if trainer["launcher"] == "accelerate":
            head += ["-m", "accelerate.commands.launch", "--num_processes", str(trainer["num_processes"]),
                     "--config_file", str(ROOT / "launchers" / trainer["accelerate_config"])]
        elif trainer["launcher"] == "torchrun":
            head += ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(trainer["num_processes"])]
    if trainer["launcher"] == "accelerate":  # a fresh port per run: a killed run cannot block the next
        head += ["--main_process_port", str(port)]
    return head + [str(Path(__file__).resolve()), "--worker", str(worker_spec)], how


# ----------------------------------------------------------------------------------------- worker
def worker(spec_path: str) -> None:
    import faulthandler

    import torch
    from datasets import Dataset
    from train_bench import Timer, row_lengths

    from reasonkit.training import entry, synthetic

    spec = json.loads(Path(spec_path).read_text())
    if spec.get("stack_dump_s"):  # a stalled run leaves every thread's stack in its log
        faulthandler.dump_traceback_later(spec["stack_dump_s"], repeat=True, file=sys.stderr)
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available() and not spec["args"].get("use_cpu")
    t0 = time.perf_counter()
    model = entry.load_model(spec)
    t_load = time.perf_counter() - t0
    timer = Timer() if cuda else _CpuTimer()
    rows = synthetic.sft_rows(spec["rows"], spec["vocab"], seed=1)
    trainer = entry.build_trainer(spec, model, synthetic.tokenizer(spec["vocab"]), Dataset.from_list(rows),
                                  [timer.cb])
    t_build = time.perf_counter() - t0 - t_load
    seen: list[dict[str, Any]] = []
    loss_fn = trainer.compute_loss

    def counting(model, inputs, *a, **kw):  # keep tensors; read them after training (no per-step sync)
        lab = inputs.get("labels")
        seen.append({"pos": inputs.get("position_ids"), "mask": inputs.get("attention_mask"),
                     "ids_sum": inputs["input_ids"].sum(), "n_label": None if lab is None else (lab != -100).sum()})
        return loss_fn(model, inputs, *a, **kw)

    trainer.compute_loss = counting
    t1 = time.perf_counter()
    trainer.train()
    t_train = time.perf_counter() - t1
    faulthandler.cancel_dump_traceback_later()
    micro = []
    for s in seen:
        lens = row_lengths({k: v for k, v in (("position_ids", s["pos"]), ("attention_mask", s["mask"]))
                            if v is not None})
        micro.append({"tokens": int(sum(lens)), "rows": len(lens), "ids_sum": int(s["ids_sum"]),
                      "n_label": None if s["n_label"] is None else int(s["n_label"])})
    acc = trainer.accelerator
    ds = getattr(acc.state, "deepspeed_plugin", None)
    p0 = next(trainer.model.parameters())
    rec = {"rank": rank, "world_size": world, "device": torch.cuda.get_device_name() if cuda else "cpu",
           "step_end_times": timer.t, "micro": micro, "load_s": t_load, "build_s": t_build, "train_s": t_train,
           "first_step_s": timer.t[0] - t1 if timer.t else None,
           "grad_accum": trainer.args.gradient_accumulation_steps,
           "peak_alloc_gb": torch.cuda.max_memory_allocated() / 1e9 if cuda else None,
           "peak_reserved_gb": torch.cuda.max_memory_reserved() / 1e9 if cuda else None,
           "deepspeed": bool(getattr(trainer, "is_deepspeed_enabled", False)),
           "zero_stage": getattr(ds, "zero_stage", None), "param_dtype": str(p0.dtype),
           "optimizer": type(trainer.optimizer).__name__,
           "log_history": trainer.state.log_history}
    Path(spec["out_dir"], f"rank{rank}.json").write_text(json.dumps(rec))
    print(f"[zero_bench] rank {rank}/{world} done: train {t_train:.1f}s", flush=True)


class _CpuTimer:
    def __init__(self) -> None:
        from transformers import TrainerCallback

        outer = self

        class _CB(TrainerCallback):
            def on_step_end(self, args, state, control, **kw):
                outer.t.append(time.perf_counter())

        self.t: list[float] = []
        self.cb = _CB()


def make_model(shape: str, path: str, vocab: int, device: str) -> None:
    import torch

    from reasonkit.training import synthetic

    synthetic.model(shape, vocab, torch.bfloat16, device=device).save_pretrained(path)


# ----------------------------------------------------------------------------------------- driver
def summarise(label: str, ranks: list[dict[str, Any]], warmup: int, steps: int) -> dict[str, Any]:
    r0 = ranks[0]
    ga, world = r0["grad_accum"], r0["world_size"]
    t = r0["step_end_times"]
    secs = t[warmup + steps - 1] - t[warmup - 1]
    tokens = sum(m["tokens"] for r in ranks for m in r["micro"][warmup * ga:(warmup + steps) * ga])
    per_step = []  # the micro-batches of each optimizer step, over all ranks and accumulation steps
    for k in range(warmup + steps):
        per_step.append(sorted((m["ids_sum"], m["tokens"]) for r in ranks for m in r["micro"][k * ga:(k + 1) * ga]))
    hist = r0["log_history"]
    return {"config": label, "world_size": world, "grad_accum": ga, "timed_steps": steps, "seconds": secs,
            "tokens": tokens, "tok_s": tokens / secs, "tok_s_per_gpu": tokens / secs / world,
            "rows_per_step": sum(m["rows"] for r in ranks for m in r["micro"][warmup * ga:(warmup + steps) * ga]) / steps,
            "peak_alloc_gb": [r["peak_alloc_gb"] for r in ranks], "peak_reserved_gb": [r["peak_reserved_gb"] for r in ranks],
            "loss": {h["step"]: h["loss"] for h in hist if "loss" in h},
            "grad_norm": {h["step"]: h.get("grad_norm") for h in hist if "loss" in h},
            "step_data": per_step, "deepspeed": r0["deepspeed"], "zero_stage": r0["zero_stage"],
            "param_dtype": r0["param_dtype"], "optimizer": r0["optimizer"],
            "load_s": [r["load_s"] for r in ranks], "build_s": [r["build_s"] for r in ranks],
            "train_s_incl_warmup": r0["train_s"], "first_step_s": [r.get("first_step_s") for r in ranks]}


def compare(run: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    steps = sorted(set(run["loss"]) & set(ref["loss"]))
    dl = {s: run["loss"][s] - ref["loss"][s] for s in steps}
    dg = {s: (run["grad_norm"][s] - ref["grad_norm"][s]) / ref["grad_norm"][s] for s in steps
          if run["grad_norm"].get(s) is not None and ref["grad_norm"].get(s)}
    same = [a == b for a, b in zip(run["step_data"], ref["step_data"])]
    first = min(steps) if steps else None
    out = {"vs": ref["config"], "same_rows_every_step": all(same) and len(same) == len(ref["step_data"]),
           "first_step_with_other_rows": None if all(same) else same.index(False) + 1,
           "loss_diff": dl, "max_abs_loss_diff": max(map(abs, dl.values())) if dl else None,
           "step1_loss_diff": dl.get(first), "grad_norm_rel_diff": dg,
           "max_abs_grad_norm_rel_diff": max(map(abs, dg.values())) if dg else None,
           "loss_change_ref": (ref["loss"][steps[-1]] - ref["loss"][steps[0]]) if steps else None,
           "speedup": run["tok_s"] / ref["tok_s"], "scaling_efficiency": run["tok_s"] / ref["tok_s"] / run["world_size"]}
    out["within_tolerance"] = bool(dl) and abs(out["step1_loss_diff"]) <= LOSS_TOL_STEP1 \
        and out["max_abs_loss_diff"] <= LOSS_TOL
    return out


def sh(cmd: str, timeout: float = 60) -> str:
    try:
        p = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=timeout, check=False)
        return (p.stdout + p.stderr).strip()
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout}s"


def stop(p: subprocess.Popen) -> None:
    try:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--make-model", nargs=3, metavar=("SHAPE", "DIR", "DEVICE"), help=argparse.SUPPRESS)
    ap.add_argument("--shapes", default="qwen2.5-0.5b,qwen2.5-1.5b")
    ap.add_argument("--configs", default="1gpu,zero2,zero3,1gpu_fp32master")
    ap.add_argument("--rows", type=int, default=1200)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--deadline", type=float, default=470, help="seconds for the whole benchmark")
    ap.add_argument("--job-timeout", type=float, default=170)
    ap.add_argument("--min-left", type=float, default=50, help="skip a phase with less time left than this")
    ap.add_argument("--vocab", type=int, default=VOCAB)
    ap.add_argument("--work", default="/tmp/rk_zero_bench")
    ap.add_argument("--logs", default=None, help="where job log tails go (default: next to --out)")
    ap.add_argument("--ds-site", default="", help="folder holding the DeepSpeed wheels' install: on "
                    "PYTHONPATH for DeepSpeed jobs only (once importable, transformers/accelerate import it)")
    ap.add_argument("--stack-dump-s", type=float, default=90, help="dump worker stacks every N s (0: off)")
    ap.add_argument("--cpu-test", action="store_true", help="logic check on CPU: tiny shape, torchrun/gloo for 2 ranks")
    args = ap.parse_args()
    if args.worker:
        return worker(args.worker)
    if args.make_model:
        return make_model(*args.make_model[:2], args.vocab, args.make_model[2])

    start = time.time()
    work, out = Path(args.work), Path(args.out)
    logs = Path(args.logs) if args.logs else out.parent / "zero_bench_logs"
    work.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    shapes, labels = args.shapes.split(","), args.configs.split(",")
    plan = [[j for j in ph if j[0] in shapes and j[1] in labels] for ph in PLAN]
    if args.cpu_test:
        plan = [[(shapes[0], lab, "") for lab in labels if any(j[1] == lab for p in PLAN for j in p)]]
        plan = [[j] for j in plan[0]]
    plan = [ph for ph in plan if ph]
    res: dict[str, Any] = {"argv": sys.argv, "tolerance": {"loss_step1_abs": LOSS_TOL_STEP1, "loss_abs": LOSS_TOL,
                                                            "grad_norm_rel": GRAD_RTOL},
                           "machine": {}, "runs": [], "failed": [], "skipped": []}

    def save() -> None:
        res["elapsed_s"] = time.time() - start
        out.write_text(json.dumps(res, indent=1))

    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join(
        [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p] + [str(ROOT)])}
    ds_report = None
    dsenv = {**env, "PYTHONPATH": os.pathsep.join([args.ds_site, env["PYTHONPATH"]])} if args.ds_site else env
    if not args.cpu_test:
        m = res["machine"]
        m["gpus"] = sh("nvidia-smi --query-gpu=name,driver_version,power.limit,memory.total --format=csv,noheader")
        m["topology"] = sh("nvidia-smi topo -m")
        m["nvcc"] = sh("which nvcc; nvcc --version; echo CUDA_HOME=$CUDA_HOME; ls -d /usr/local/cuda* 2>/dev/null")
        m["versions"] = sh(f"PYTHONPATH={dsenv['PYTHONPATH']} {sys.executable} -c \"import torch,transformers,trl,accelerate,deepspeed,liger_kernel;"
                           "print(torch.__version__, torch.version.cuda, transformers.__version__, trl.__version__,"
                           " accelerate.__version__, deepspeed.__version__)\"", 120)
        m["torch_extensions_before"] = sh("ls -R ~/.cache/torch_extensions 2>/dev/null | head -50")
        ds_report = subprocess.Popen([sys.executable, "-c", "from deepspeed.env_report import cli_main; cli_main()"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dsenv)
        save()

    # one random-weight folder per shape, built once, loaded by every run
    dirs = {s: work / f"{s}-v{args.vocab}" for s in shapes}
    builders = [subprocess.Popen([sys.executable, __file__, "--vocab", str(args.vocab), "--make-model", s, str(d),
                                  "cpu" if args.cpu_test else f"cuda:{i % 2}"], env=env)
                for i, (s, d) in enumerate(dirs.items()) if not (d / "config.json").exists()]
    for b in builders:
        b.wait(300)
    res["setup_s"] = time.time() - start
    results: dict[tuple[str, str], dict[str, Any]] = {}
    port = 29511
    for phase in plan:
        left = args.deadline - (time.time() - start)
        if left < args.min_left:
            res["skipped"] += [{"shape": s, "config": c, "why": f"{left:.0f}s left of --deadline"} for s, c, _ in phase]
            save()
            continue
        procs = []
        for shape, label, gpus in phase:
            name, nproc, extra, extra_args = CONFIGS[label]
            p = preset(name)
            if args.cpu_test:
                p = merge(p, {"model_kwargs": {"attn_implementation": "sdpa"}, "args": CPU_TEST_ARGS})
                if nproc > 1:
                    p = {**p, "launcher": "torchrun"}  # accelerate's DeepSpeed path needs GPUs
            jd = work / "runs" / f"{shape}_{label}"
            jd.mkdir(parents=True, exist_ok=True)
            for f in jd.glob("rank*.json"):
                f.unlink()
            spec = {"kind": p["kind"], "model_path": str(dirs[shape]), "dtype": "bfloat16", "output_dir": str(jd / "out"),
                    "model_kwargs": p.get("model_kwargs") or {}, "compile_layers": bool(p.get("compile_layers")),
                    "args": {**p["args"], "assistant_only_loss": False, "max_steps": args.warmup + args.steps,
                             "logging_steps": 1, "save_strategy": "no", "report_to": "none", **extra_args},
                    "rows": args.rows, "vocab": args.vocab, "out_dir": str(jd),
                    "stack_dump_s": args.stack_dump_s, **extra}
            (jd / "spec.json").write_text(json.dumps(spec, indent=1))
            port += 1
            cmd, how = launch_cmd(p, jd / "spec.json", port)
            jenv = dict(env)
            if args.ds_site and p.get("launcher") == "accelerate":
                jenv["PYTHONPATH"] = os.pathsep.join([args.ds_site, env["PYTHONPATH"]])
            if gpus:
                jenv["CUDA_VISIBLE_DEVICES"] = gpus
            log = open(jd / "log.txt", "w")  # noqa: SIM115 (closed when the job ends)
            procs.append((shape, label, gpus, nproc, name, cmd, how, jd, log, time.time(),
                          subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=jenv, cwd=ROOT,
                                           start_new_session=True)))
        limit = min(args.job_timeout, args.deadline - (time.time() - start))
        for shape, label, gpus, nproc, name, cmd, how, jd, log, t0, pr in procs:
            try:
                rc = pr.wait(max(1.0, limit - (time.time() - t0)))
            except subprocess.TimeoutExpired:
                stop(pr)
                rc = f"timeout after {limit:.0f}s"
            log.close()
            wall = time.time() - t0
            tail = (jd / "log.txt").read_text(errors="replace").splitlines()[-400:]
            (logs / f"{shape}_{label}.log").write_text("\n".join(tail) + "\n")
            ranks = [json.loads(f.read_text()) for f in sorted(jd.glob("rank*.json"))]
            base = {"shape": shape, "preset": name, "gpus": gpus, "command": cmd, "command_from": how,
                    "rc": rc, "wall_s": wall, "concurrent_with": [f"{s}/{c}" for s, c, _ in phase if (s, c) != (shape, label)]}
            if rc != 0 or len(ranks) != nproc:
                res["failed"].append({**base, "config": label, "log_tail": tail[-60:]})
                print(json.dumps({"FAILED": f"{shape}/{label}", "rc": rc, "wall_s": round(wall, 1)}), flush=True)
                continue
            try:
                rec = {**base, **summarise(label, ranks, args.warmup, args.steps)}
            except (IndexError, KeyError, ZeroDivisionError) as e:
                res["failed"].append({**base, "config": label, "error": repr(e), "log_tail": tail[-60:]})
                continue
            results[(shape, label)] = rec
            res["runs"].append(rec)
            print(json.dumps({k: rec[k] for k in ("shape", "config", "tok_s", "tok_s_per_gpu", "peak_alloc_gb", "wall_s")}
                             | {"loss_first_last": [rec["loss"][min(rec["loss"])], rec["loss"][max(rec["loss"])]]}),
                  flush=True)
        # comparisons, recomputed as results arrive
        for (shape, label), rec in results.items():
            rec["vs"] = {ref: compare(rec, results[(shape, ref)]) for ref in ("1gpu", "1gpu_fp32master")
                         if ref != label and (shape, ref) in results}
            for ref, c in rec["vs"].items():
                if any(j[:2] == (shape, label) for j in phase) and ref == "1gpu":
                    print(json.dumps({"shape": shape, "config": label, "vs": ref, "speedup": round(c["speedup"], 3),
                                      "same_rows": c["same_rows_every_step"], "step1_dloss": c["step1_loss_diff"],
                                      "max_dloss": c["max_abs_loss_diff"],
                                      "max_dgrad_rel": c["max_abs_grad_norm_rel_diff"]}), flush=True)
        if ds_report is not None and (ds_report.poll() is not None or phase is plan[-1]):
            try:
                res["machine"]["ds_report"] = ds_report.communicate(timeout=30)[0][-6000:]
            except subprocess.TimeoutExpired:
                ds_report.kill()
                res["machine"]["ds_report"] = "timed out"
            ds_report = None
        if not args.cpu_test:
            res["machine"]["torch_extensions_after"] = sh("ls -R ~/.cache/torch_extensions 2>/dev/null | head -50")
        save()
    if ds_report is not None:
        ds_report.kill()
        res["machine"]["ds_report"] = (ds_report.communicate()[0] or "")[-6000:] + "\n[killed: deadline]"
    save()


if __name__ == "__main__":
    main()
