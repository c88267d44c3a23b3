"""``stage=eval``: the models × benchmarks grid. Each cell (model, benchmark, eval settings) is
its own artifact under ``artifacts/eval_cell/``; the eval artifact holds the grid's table. Adding a
model, checkpoint or benchmark computes only the new cells, and a model is loaded once for all of
its missing cells. Each cell is judged by eval's own judge (``eval.judge``, default: each
benchmark's math / choice / code judge against the benchmark's answer), never the run's ``judge``.
"""
from __future__ import annotations

import json
import time
from typing import Any

from omegaconf import OmegaConf

from reasonkit.data import benchmarks as bm
from reasonkit.evaluation import grid
from reasonkit.evaluation.cell import run_cell
from reasonkit.evaluation.pools import SharedPools
from reasonkit.pipeline.stage import Stage, StageContext, register
from reasonkit.report.table import markdown, print_table


def _metric_name(m: dict[str, Any]) -> str:
    return f"avg@{m['n']}"


# fields of a cell record that label it rather than measure it
CELL_LABELS = ("row", "model", "benchmark", "artifact")


@register
class EvalStage(Stage):
    name = "eval"
    version = 3
    inputs = ("train",)

    def needs(self, cfg):
        return ("train",) if any(r in grid.TRAIN_ROWS for r in cfg.eval.models) else ()

    def _specs(self, cfg) -> list[bm.BenchmarkConfig]:
        return [grid.spec(cfg, b) for b in cfg.eval.benchmarks]

    def keys(self, cfg):
        """Every cell's key (train rows: a placeholder; the train artifact's hash is this stage's
        input hash, and the real cell keys use it) and the pick rule."""
        specs = self._specs(cfg)
        return {"cells": [grid.cell_key(cfg, m, s) for m in grid.resolve_models(cfg, plan=True) for s in specs],
                "select_best": cfg.eval.select_best, "name": cfg.eval.name}

    def label(self, cfg):
        return f"{cfg.eval.name}-{'+'.join(str(b) if b != 'dataset' else cfg.dataset.name for b in cfg.eval.benchmarks)}"[:100]

    def validate(self, cfg) -> None:
        """Refuse, before any work, an eval that cannot run: an unknown benchmark or model, a judge
        that needs an engine eval does not start, a benchmark naming a label-making judge."""
        from reasonkit.judging.base import JUDGES

        if cfg.eval.judge and cfg.eval.judge in JUDGES and JUDGES.get(cfg.eval.judge).needs_engine:
            raise ValueError(f"eval.judge={cfg.eval.judge}: this judge needs a judge engine and eval starts none; "
                             "use math, choice or code (or leave eval.judge null for each benchmark's own)")
        if not cfg.eval.benchmarks:
            raise ValueError("eval.benchmarks: empty; name at least one benchmark")
        for s in self._specs(cfg):
            if not cfg.eval.judge and s.judge not in grid.BENCHMARK_JUDGES:
                raise ValueError(f"benchmark '{s.name}': judge {s.judge!r}; expected one of {', '.join(grid.BENCHMARK_JUDGES)} "
                                 "(vote-style judges only through eval.judge)")
            grid.judge_config(cfg, s)
            if not s.ks or min(s.ks) < 1:
                raise ValueError(f"benchmark '{s.name}': ks {s.ks}: expected positive k values")
        grid.resolve_models(cfg, plan=True)
        if cfg.eval.select_best:
            b, _, metric = str(cfg.eval.select_best).partition(":")
            names = [s.name for s in self._specs(cfg)]
            if b not in names or not metric:
                raise ValueError(f"eval.select_best={cfg.eval.select_best!r}: expected <benchmark>:<metric> with a "
                                 f"benchmark of this run ({', '.join(names)}), e.g. {names[0]}:avg@n")

    def run(self, ctx: StageContext) -> dict[str, Any]:
        cfg = ctx.cfg
        train = ctx.inputs.get("train")
        rows = grid.resolve_models(cfg, train.path if train else None, train.hash if train else None)
        specs = self._specs(cfg)
        t0 = time.time()
        cells: list[dict[str, Any]] = []
        computed = 0
        problems_cache: dict[str, list[dict]] = {}
        pools = SharedPools()  # one math-verify worker pool for every cell of the run
        plans = []
        try:
            for m in rows:
                plan = [(s, key, ctx.store.artifact("eval_cell", grid.label(m, s), grid.digest(key)))
                        for s in specs for key in [grid.cell_key(cfg, m, s)]]
                todo = [(s, key, art) for s, key, art in plan if not art.complete]
                if todo:  # one engine for all of this model's missing cells
                    computed += run_model_cells(ctx, m, todo, problems_cache, pools)
                plans.append((m, plan))
        finally:
            pools.close()
        for m, plan in plans:
            for s, key, art in plan:
                if not art.complete:
                    raise RuntimeError(f"eval cell {art.path} did not complete")
                met = json.loads((art.path / "metrics.json").read_text())
                cells.append({"row": m.row, "model": m.name, "benchmark": s.name, "artifact": str(art.path),
                              **({"step": m.extra["step"]} if "step" in m.extra else {}), **met})
        result = {"cells": cells, "select_best": select_best(cfg.eval.select_best, cells)}
        (ctx.out.path / "metrics.json").write_text(json.dumps(result, indent=2))
        head, body = table(cells, result["select_best"])
        (ctx.out.path / "table.md").write_text(markdown(head, body) + "\n")
        print_table(f"eval: {cfg.eval.name}", head, body,
                    "avg@n ± s.e. [95% bootstrap]" + (" · † picked on this benchmark" if result["select_best"] else ""))
        if ctx.tracker:
            ctx.tracker.table("eval", [{k: v for k, v in c.items() if not isinstance(v, (dict, list))} for c in cells])
            ctx.tracker.log({f"eval/{c['row']}/{c['benchmark']}/{k}": v for c in cells for k, v in c.items()
                             if isinstance(v, (int, float)) and not isinstance(v, bool)})
            # W&B summary `<benchmark>/<metric>` (the trained model's cells; baselines prefixed by
            # their row) and the config as flat keys: W&B's grouping and parallel coordinates
            from reasonkit.tracking.summary import log_eval_cell

            for i, c in enumerate(cells):
                name = c["benchmark"] if c["row"] == "trained" else f"{c['row']}/{c['benchmark']}"
                log_eval_cell(ctx.tracker, name, {k: v for k, v in c.items() if k not in CELL_LABELS},
                              config=OmegaConf.to_container(cfg, resolve=True) if i == 0 else None)
        ctx.metrics["eval"] = {"cells": len(cells), "computed": computed, "reused": len(cells) - computed,
                               "seconds": round(time.time() - t0, 2), "select_best": result["select_best"]}
        # flat rows for the report: "<row>/<benchmark>" -> summary
        return {f"{c['row']}/{c['benchmark']}": {k: v for k, v in c.items() if not isinstance(v, (dict, list))}
                for c in cells}


def run_model_cells(ctx: StageContext, m: grid.EvalModel, todo: list, problems_cache: dict,
                    pools: SharedPools | None = None) -> int:
    """Start the model's engine once, compute each missing cell under its own lock."""
    from reasonkit.engines import build_engine
    from reasonkit.models import load as models

    cfg = ctx.cfg
    path, tok_path = grid.model_path(cfg, m)
    tok = models.tokenizer(tok_path, m.mcfg.revision if tok_path == path and not m.path else None, m.mcfg.chat_template)
    # the backend's settings without generation's n/seed/sampling: eval has its own (per cell)
    sampler = OmegaConf.create({**{k: cfg.sampler[k] for k in cfg.sampler if k not in grid.SAMPLER_GENERATION_ONLY},
                                "shards": 1, "shard": None})
    engine = None
    info: dict[str, Any] = {}
    n = 0
    try:
        for s, key, art in todo:
            s = grid.for_model(cfg, s, m)
            with ctx.store.lock(art):
                if art.complete:  # another process computed it meanwhile
                    continue
                engine = engine or build_engine(sampler, path, info, model=m.mcfg,
                                                revision=m.mcfg.revision if not m.path else None)
                ctx.store.begin(art, False)
                try:
                    if (s.name, s.prompt) not in problems_cache:
                        problems_cache[s.name, s.prompt] = list(bm.problems(
                            s, root=cfg.paths.benchmarks, dataset=cfg.dataset if s.source == "dataset" else None,
                            template_vars=grid.template_vars(cfg, s)))
                    met = run_cell(ctx, m, s, engine, tok, problems_cache[s.name, s.prompt], art.path, pools)
                    met["engine"] = dict(info)
                    timing = met.pop("seconds")  # the manifest's: metrics.json holds only what the config decides
                    (art.path / "metrics.json").write_text(json.dumps(met, indent=2))
                    ctx.store.finish(art, {"stage": "eval_cell", "hash": art.hash, "row": m.row, "model": m.name,
                                           "benchmark": s.name, "metrics": met, "seconds": timing},
                                     cell_yaml(key))
                except BaseException:
                    ctx.store.abandon(art, False)
                    raise
                n += 1
                ctx.log.info("[eval] %s × %s: %s", m.row, s.name, {k: round(v, 3) if isinstance(v, float) else v
                                                                  for k, v in met.items() if not isinstance(v, (dict, list))})
    finally:
        if engine is not None:
            engine.close()
    return n


def cell_yaml(key: dict[str, Any]) -> str:
    """The cell's key as the artifact's config.yaml (plain YAML: an OmegaConf round trip per
    cell cost more than the rest of a small cell's bookkeeping)."""
    import yaml

    return yaml.safe_dump(json.loads(json.dumps(key, default=str)), sort_keys=False, allow_unicode=True,
                          default_flow_style=False)


def select_best(rule: str | None, cells: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The row with the best ``metric`` on ``benchmark`` (``avg@n`` means the cell's own n)."""
    if not rule:
        return None
    bench, _, metric = rule.partition(":")
    cand = [c for c in cells if c["benchmark"] == bench]
    key = (lambda c: c.get(_metric_name(c))) if metric == "avg@n" else (lambda c: c.get(metric))
    scored = [c for c in cand if key(c) is not None]
    if not scored:
        raise ValueError(f"eval.select_best={rule!r}: no cell of benchmark {bench!r} has metric {metric!r}")
    best = max(scored, key=key)  # first row wins ties (config order: earlier checkpoints first)
    return {"benchmark": bench, "metric": metric, "row": best["row"], "model": best["model"], "value": key(best)}


def table(cells: list[dict[str, Any]], pick: dict[str, Any] | None) -> tuple[list[str], list[list[str]]]:
    """Model × benchmark: avg@n ± s.e. and the bootstrap interval; a pick made on a benchmark marks
    that benchmark's column, since numbers chosen and reported on one test set are optimistic."""
    benches = list(dict.fromkeys(c["benchmark"] for c in cells))
    rows = list(dict.fromkeys(c["row"] for c in cells))
    by = {(c["row"], c["benchmark"]): c for c in cells}
    ns = {b: sorted({c["n"] for c in cells if c["benchmark"] == b}) for b in benches}
    head = ["model"] + [f"{b}{' †' if pick and pick['benchmark'] == b else ''}"
                        f"{f' avg@{ns[b][0]}' if len(ns[b]) == 1 else ''}" for b in benches]
    body = []
    for r in rows:
        line = [r + (" (picked)" if pick and pick["row"] == r else "")]
        for b in benches:
            c = by.get((r, b))
            if c is None:
                line.append("—")
                continue
            name = _metric_name(c)
            lo, hi = c["ci95"]
            line.append(f"{100 * c[name]:.1f} ± {100 * c[name + '_se']:.1f} [{100 * lo:.0f}–{100 * hi:.0f}]"
                        + (f" ({name})" if len(ns[b]) > 1 else ""))
        body.append(line)
    return head, body
