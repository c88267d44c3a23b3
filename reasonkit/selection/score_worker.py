"""One scoring process per GPU: run a rank, launch W ranks locally, merge their outputs by id.

A rank is a plain ``python -m reasonkit.selection.score_worker`` process (no Hydra; a SLURM
array task or a local subprocess with ``CUDA_VISIBLE_DEVICES`` set runs the same command). Each
rank streams the whole input, scores its blocks through the engine ``score.backend`` names (see
``scoring.score_samples``) and writes ``scores-rank<r>-of-<W>.jsonl`` under a temporary name,
renamed when complete, so a half-written rank file is never merged.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Iterator

from reasonkit.selection.scoring import SCORE_FIELDS, ScoreConfig


def rank_file(out_dir: str | Path, rank: int, world_size: int) -> Path:
    return Path(out_dir) / f"scores-rank{rank:05d}-of-{world_size:05d}.jsonl"


def read_samples(paths: Iterable[str | Path]) -> Iterator[dict[str, Any]]:
    from reasonkit.records import Sample, read_jsonl

    for p in paths:
        yield from read_jsonl(p, Sample)


def run_rank(cfg: ScoreConfig, sample_paths: list[str], out_dir: str | Path) -> dict[str, Any]:
    """Score this rank's blocks of the samples in ``sample_paths`` into its rank file."""
    from reasonkit.selection.scoring import load_scorer, score_samples

    out = rank_file(out_dir, cfg.rank, cfg.world_size)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".jsonl.tmp")
    t0 = time.time()
    engine, tok = load_scorer(cfg)
    t_load = time.time() - t0
    n = tokens = ctx_tokens = 0
    timings: dict[str, float] = {}
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            for rec in score_samples(engine, tok, read_samples(sample_paths), cfg, timings):
                fh.write(json.dumps(rec) + "\n")
                n += 1
                tokens += rec["n_tokens"]
                ctx_tokens += rec["n_context_tokens"]
    finally:
        engine.close()
    os.replace(tmp, out)
    return {"rank": cfg.rank, "world_size": cfg.world_size, "samples": n,
            "scored_tokens": tokens,
            "context_tokens": ctx_tokens, **timings, "load_s": t_load, "total_s": time.time() - t0}


def merge_scores(out_dir: str | Path, world_size: int) -> dict[str, dict[str, Any]]:
    """``{sample id: scores}`` from all W rank files; refuses missing ranks and duplicate ids."""
    merged: dict[str, dict[str, Any]] = {}
    for r in range(world_size):
        p = rank_file(out_dir, r, world_size)
        if not p.exists():
            raise FileNotFoundError(f"{p}: rank {r} of {world_size} has not finished")
        with p.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                rec = json.loads(line)
                if rec["id"] in merged:
                    raise ValueError(f"{p}:{lineno}: field 'id': {rec['id']!r} scored by two ranks")
                merged[rec["id"]] = {k: rec[k] for k in SCORE_FIELDS}
    return merged


def launch_local(cfg: ScoreConfig, sample_paths: list[str], out_dir: str | Path,
                 world_size: int, gpus: list[str] | None = None) -> dict[str, Any]:
    """Start one process per rank (rank r sees only GPU ``gpus[r]``), wait, merge.

    With ``gpus=None`` and CUDA present, rank r gets GPU r; on CPU every rank runs on the CPU.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    procs = []
    for r in range(world_size):
        rcfg = dataclasses.replace(cfg, rank=r, world_size=world_size)
        cfg_path = out_dir / f"score-config-rank{r:05d}.json"
        cfg_path.write_text(json.dumps(dataclasses.asdict(rcfg)))
        env = dict(os.environ)
        if gpus is not None:
            env["CUDA_VISIBLE_DEVICES"] = gpus[r]
        elif cfg.device != "cpu" and _cuda_count() > 0:
            env["CUDA_VISIBLE_DEVICES"] = str(r)
        log = (out_dir / f"rank{r:05d}.log").open("w")
        procs.append((r, subprocess.Popen(
            [sys.executable, "-m", "reasonkit.selection.score_worker", "--config", str(cfg_path),
             "--out", str(out_dir), *sample_paths], env=env, stdout=log, stderr=subprocess.STDOUT), log))
    failed = []
    for r, p, log in procs:
        if p.wait() != 0:
            failed.append(r)
        log.close()
    if failed:
        tails = {r: (out_dir / f"rank{r:05d}.log").read_text()[-2000:] for r in failed}
        raise RuntimeError(f"score ranks {failed} failed:\n" + "\n".join(
            f"--- rank {r}\n{t}" for r, t in tails.items()))
    stats = [json.loads((out_dir / f"rank{r:05d}.stats.json").read_text()) for r in range(world_size)]
    return {"ranks": stats, "scores": merge_scores(out_dir, world_size)}


def _cuda_count() -> int:
    try:
        import torch

        return torch.cuda.device_count()
    except Exception:
        return 0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="score one rank's share of samples (no Hydra)")
    ap.add_argument("--config", required=True, help="JSON of ScoreConfig fields")
    ap.add_argument("--out", required=True)
    ap.add_argument("samples", nargs="+", help="JSONL files of samples (every rank gets all)")
    a = ap.parse_args(argv)
    fields = json.loads(Path(a.config).read_text())
    known = {f.name for f in dataclasses.fields(ScoreConfig)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise SystemExit(f"{a.config}: unknown ScoreConfig fields {unknown}; expected {sorted(known)}")
    cfg = ScoreConfig(**fields)
    stats = run_rank(cfg, a.samples, a.out)
    Path(a.out, f"rank{cfg.rank:05d}.stats.json").write_text(json.dumps(stats))
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    main()
