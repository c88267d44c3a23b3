"""``stage=dynamics``: log-likelihood, perplexity and entropy of typed sample pools at every
checkpoint of a training run (plus the base student at step 0), scored with the fast scorer.

Incremental: each checkpoint's scores and summary are their own files in the artifact
(``steps/step-<N>.jsonl`` and ``.json``, the summary written last), and the stage is resumable,
so an interrupted run, or one asked again after a crash, scores only the checkpoints that have no
summary yet. The artifact ends with ``summary.json`` (every type × step), ``table.md`` and plots.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from reasonkit.dynamics.pools import (
    NEEDS,
    SOURCES,
    PoolError,
    build_pool,
    file_digest,
    read_pool_file,
)
from reasonkit.dynamics.summary import SUMMARY, SUMMARY_METRICS, summarize
from reasonkit.pipeline.artifacts import write_shard
from reasonkit.pipeline.stage import Stage, StageContext, register

VERSION = 1


def checkpoints(train_dir: Path, final_step: int | None) -> list[tuple[int, Path]]:
    """(step, folder) of every saved checkpoint, plus the final model when it is not one of them."""
    found = []
    for p in (train_dir / "checkpoints").glob("checkpoint-*"):
        tail = p.name.rsplit("-", 1)[-1]
        if tail.isdigit() and (p / "config.json").exists():
            found.append((int(tail), p))
    found.sort()
    steps = {s for s, _ in found}
    if (train_dir / "model" / "config.json").exists() and final_step is not None and final_step not in steps:
        found.append((final_step, train_dir / "model"))
    return found


def _score_keys(cfg) -> dict[str, Any]:
    from reasonkit.selection.score_stage import score_config

    sc = dataclasses.asdict(score_config(cfg))
    for k in ("rank", "world_size", "token_budget", "head_chunk_mb", "block_size", "verify", "model"):
        sc.pop(k, None)  # how, not what, is computed (as in stage=score); model: the checkpoints
    return sc


@register
class DynamicsStage(Stage):
    name = "dynamics"
    version = VERSION
    resumable = True

    def needs(self, cfg):
        extra = [NEEDS.get(p.source) for p in cfg.dynamics.pools]
        return ("train",) + tuple(dict.fromkeys(s for s in extra if s and s != "train"))

    def keys(self, cfg):
        from reasonkit.models import load as models

        return {"dynamics": cfg.dynamics, "score": _score_keys(cfg), "student": cfg.student,
                "weights": models.fingerprint(cfg.student),
                "files": [file_digest(p.path) for p in cfg.dynamics.pools if p.source == "file"]}

    def code(self, cfg):
        from reasonkit.engines.base import LOGLIK_VERSION
        from reasonkit.selection.scoring import SCORER_VERSION

        return {"loglik": LOGLIK_VERSION, "scorer": SCORER_VERSION}

    def label(self, cfg):
        return f"{cfg.student.name}-{cfg.dynamics.name}"

    def validate(self, cfg) -> None:
        """Refuse an unknown source or a bad pool file (file:line:field) before any scoring."""
        for p in cfg.dynamics.pools:
            SOURCES.get(p.source)
            if p.source == "file":
                if not p.path or not Path(p.path).is_file():
                    raise PoolError(f"dynamics.pools: source=file path={p.path!r}: no such file")
                read_pool_file(Path(p.path), typed=p.type is None)

    def run(self, ctx: StageContext) -> dict[str, Any]:
        from reasonkit.models import load as models
        from reasonkit.selection.score_stage import score_config
        from reasonkit.selection.scoring import load_scorer, score_samples

        cfg = ctx.cfg
        out = ctx.out.path
        pool_file = out / "pool.jsonl"
        if pool_file.exists():  # resumed: the same pool as the first attempt
            from reasonkit.records import read_jsonl

            pool = list(read_jsonl(pool_file))
        else:
            pool = build_pool(list(cfg.dynamics.pools), ctx.inputs)
            if not pool:
                raise ValueError("dynamics.pools: no samples (every pool is empty after its filters)")
            write_shard(pool_file, pool)
        types = {r["id"]: r["type"] for r in pool}
        train = ctx.inputs["train"]
        final = train.manifest.get("metrics", {}).get("steps")
        base = models.resolve(cfg.student, cfg.paths.models)
        ckpts = ([(0, Path(base))] if cfg.dynamics.include_base else []) + checkpoints(train.path, final)
        tok = models.tokenizer(base, None, cfg.student.chat_template)  # training never changes it
        sc0 = score_config(cfg)
        steps_dir = out / "steps"
        steps_dir.mkdir(exist_ok=True)
        scored, reused = [], []
        for step, path in ckpts:
            summ = steps_dir / f"step-{step:07d}.json"
            if summ.exists():
                reused.append(step)
                continue
            sc = dataclasses.replace(sc0, model=str(path), system=sc0.system or cfg.student.system_prompt,
                                     chat_template=sc0.chat_template or cfg.student.chat_template)
            engine, _ = load_scorer(sc)  # the tokenizer stays the base's (training never changes it)
            try:
                rows = [{**r, "type": types[r["id"]], "step": step}
                        for r in score_samples(engine, tok, pool, sc)]
            finally:
                engine.close()
            write_shard(steps_dir / f"step-{step:07d}.jsonl", rows)
            tmp = summ.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(summarize(step, rows)))
            os.replace(tmp, summ)  # last: its presence means this checkpoint is done
            scored.append(step)
            ctx.log.info("[dynamics] step %d (%s): %d samples scored", step, path.name, len(rows))
        summary = [r for step, _ in ckpts
                   for r in json.loads((steps_dir / f"step-{step:07d}.json").read_text())]
        (out / SUMMARY).write_text(json.dumps(summary, indent=1))
        (out / "table.md").write_text(table_markdown(summary))
        files = plot(summary, out)
        if ctx.tracker:
            ctx.tracker.table("dynamics", summary)
            for r in summary:
                ctx.tracker.log({f"dynamics/{r['type']}/{k}": r[k] for k in SUMMARY_METRICS if r.get(k) is not None},
                                step=r["step"])
        from reasonkit.report.table import print_table

        head, body = table_rows(summary)
        print_table(f"LLH dynamics: {out.name}", head, body, f"{out}")
        return {"checkpoints": [s for s, _ in ckpts], "scored": scored, "reused": reused,
                "samples": len(pool), "types": sorted(set(types.values())),
                "plots": [str(p) for p in files]}


def table_rows(summary: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    head = ["type", "step", "n", "mean LLH/token ± s.e.", "perplexity", "entropy/token", "tokens (mean)"]
    body = [[r["type"], str(r["step"]), str(r["n"]), f"{r['llh_mean']:.3f} ± {r['llh_mean_se']:.3f}",
             f"{r['ppl']:.3f}" if r["ppl"] is not None else "—",
             f"{r['entropy_mean']:.3f}" if r["entropy_mean"] is not None else "—",
             f"{r['tokens_mean']:.1f}"] for r in sorted(summary, key=lambda r: (r["type"], r["step"]))]
    return head, body


def table_markdown(summary: list[dict[str, Any]]) -> str:
    from reasonkit.report.table import markdown

    head, body = table_rows(summary)
    return "# LLH dynamics\n\n" + markdown(head, body) + "\n"


def plot(summary: list[dict[str, Any]], out: Path) -> list[Path]:
    from reasonkit.report import plots

    panels: dict[str, dict[str, list]] = {}
    for r in summary:
        for k, title in SUMMARY_METRICS.items():
            if r.get(k) is not None:
                err = r.get("llh_mean_se") if k == "llh_mean" else None
                panels.setdefault(title, {}).setdefault(r["type"], []).append((r["step"], r[k], err))
    return plots.lines(panels, out, "dynamics", "training step", {}, logy=["perplexity"]) if panels else []

