"""Build, write, plot, print and log one sweep's report (the work of a sweep-mode ``stage=report``).

Files go to the report artifact and to ``<paths.reports>/<experiment>/<sweep id>/``, a folder that
belongs to this sweep alone, so another sweep's report can never overwrite them.
"""
from __future__ import annotations

import json
import logging
import math
import shutil
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from reasonkit.report import plots
from reasonkit.report.collect import (
    MemberData,
    collect,
    row_step,
    train_history,
    train_steps,
)
from reasonkit.report.members import Sweep
from reasonkit.report.render import WRITERS, terminal
from reasonkit.report.sweep_table import SweepTable, build, from_dict
from reasonkit.report.table import print_table

log = logging.getLogger("reasonkit")

EXT = {"md": "table.md", "tex": "table.tex", "csv": "table.csv", "json": "table.json"}


def _score_artifact(d: MemberData):
    """The member's judged-sample scores (the score stage for its judge and student), whether or
    not its own selection needed them: a random strategy shares them with the ranked ones."""
    if "score" in d.artifacts:
        return d.artifacts["score"]
    cfg = d.member.config
    if cfg is None or "judge" not in d.artifacts:
        return None
    from reasonkit.pipeline.artifacts import ArtifactStore
    from reasonkit.pipeline.runner import plan

    try:
        steps = plan(cfg, ArtifactStore(OmegaConf.select(cfg, "paths.artifacts")), ["score"])
    except Exception:  # noqa: BLE001 - the distribution plot is optional
        return None
    art = next((s.artifact for s in steps if s.stage.name == "score"), None)
    return art if art is not None and art.complete else None


def _finite(xs: list[float]) -> list[float]:
    return [x for x in xs if x is not None and math.isfinite(x)]


def make_plots(t: SweepTable, data: list[MemberData], out: Path) -> list[Path]:
    files: list[Path] = []
    # accuracy vs checkpoint step: the first metric column of each benchmark
    firsts: dict[str, str] = {}
    for c in t.columns:
        firsts.setdefault(c.benchmark, c.metric)
    panels: dict[str, dict[str, list]] = {}
    refs: dict[str, dict[str, float]] = {}
    for d in data:
        last = train_steps(d)
        for c in d.cells:
            metric = firsts.get(c.benchmark)
            if metric is None or metric not in c.metrics:
                continue
            title = f"{c.benchmark}: {metric}"
            step = row_step(c, last)
            if step is None:
                refs.setdefault(title, {})[f"{c.row} ({c.info.get('model', c.row)})"] = c.metrics[metric]
                continue
            panels.setdefault(title, {}).setdefault(d.member.label, []).append(
                (step, c.metrics[metric], c.metrics.get(f"{metric}_se")))
    if panels:
        files += plots.lines(panels, out, "accuracy_vs_step", "training step",
                             {k: k.split(": ", 1)[1] for k in panels}, refs, percent=list(panels), dodge=True)
    # training loss
    losses = {}
    for d in data:
        tr = d.art("train")
        if tr is not None:
            pts = [(h["step"], h["loss"], None) for h in train_history(tr) if "loss" in h and "step" in h]
            if pts:
                losses[d.member.label] = pts
    if losses:
        files += plots.lines({"training loss": losses}, out, "train_loss", "training step",
                             {"training loss": "loss"})
    # log-likelihood / perplexity / entropy of each member's selected samples under the student
    dist: dict[str, dict[str, list[float]]] = {"mean log-likelihood per token": {}, "perplexity": {},
                                                "mean entropy per token (nats)": {}}
    keys = {"mean log-likelihood per token": "llh_mean", "perplexity": "ppl",
            "mean entropy per token (nats)": "entropy_mean"}
    pool_done = False
    for d in data:
        sc, sel = _score_artifact(d), d.art("select")
        if sc is None or sel is None:
            continue
        scores = {r["id"]: r for r in sc.records()}
        if not pool_done:
            for title, k in keys.items():
                dist[title]["all judged candidates"] = _finite([r.get(k) for r in scores.values()])
            pool_done = True
        ids = [r["id"] for r in sel.records() if r.get("id") in scores]
        for title, k in keys.items():
            dist[title][d.member.label] = _finite([scores[i].get(k) for i in ids])
    if pool_done:
        dist = {k: v for k, v in dist.items() if any(v.values())}
        files += plots.boxes(dist, out, "score_distributions", logx=["perplexity"])
    # dynamics curves of members that have a dynamics artifact
    dyn: dict[str, dict[str, list]] = {}
    for d in data:
        art = d.art("dynamics")
        if art is None:
            continue
        from reasonkit.dynamics.summary import SUMMARY_METRICS, read_summary

        for r in read_summary(art):
            for k, title in SUMMARY_METRICS.items():
                if r.get(k) is not None:
                    dyn.setdefault(title, {}).setdefault(f"{d.member.label} · {r['type']}", []).append(
                        (r["step"], r[k], r.get(f"{k}_se") if k == "llh_mean" else None))
    if dyn:
        files += plots.lines(dyn, out, "dynamics", "training step", {}, logy=["perplexity"])
    return files


def print_sweep_table(doc: dict[str, Any], reused: bool = False) -> None:
    """Print the table (``doc``: the sweep's table.json) with where its files are."""
    t = from_dict(doc)
    head, body, caption = terminal(t)
    if doc.get("files"):
        caption += f"\nfiles in {doc['dest']}/: {', '.join(doc['files'])}"
    print_table(t.title + (" (reused)" if reused else ""), head, body, caption)


def restore(art) -> None:
    t = json.loads((art.path / "table.json").read_text())
    dest = Path(t["dest"])
    for f in t.get("files", []):
        src = art.path / Path(f).name
        if src.exists() and not (dest / src.name).exists():
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / src.name)


def build_sweep_report(cfg: Any, sweep: Sweep, art_dir: Path, tracker: Any = None) -> dict[str, Any]:
    rc = cfg.report
    data = [collect(m) for m in sweep.members]
    title = f"{sweep.experiment}: sweep {sweep.sweep_id}"
    t = build(title, data, list(rc.models), list(rc.baselines), list(rc.metrics), str(rc.interval))
    if sweep.common:
        t.notes.append("shared overrides: " + " ".join(sweep.common))
    dest = Path(cfg.paths.reports) / sweep.experiment / sweep.sweep_id
    written: list[Path] = []
    for f in rc.formats:
        name = EXT.get(f, f"table.{f}")
        if f == "json":
            continue  # written last, with the file list
        (art_dir / name).write_text(WRITERS.get(f)(t))
        written.append(art_dir / name)
    if rc.plots:
        written += make_plots(t, data, art_dir)
    doc = {**t.as_dict(), "dest": str(dest), "source": sweep.source,
           "members": [{"key": d.member.key, "label": d.member.label, "job": str(d.member.job_dir),
                        "artifacts": {k: str(a.path) for k, a in d.artifacts.items()}} for d in data]}
    doc["files"] = [p.name for p in written] + (["table.json"] if "json" in rc.formats else [])
    (art_dir / "table.json").write_text(json.dumps(doc, indent=2))
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.iterdir():  # an earlier build of this sweep (members' own reports stay in runs/)
        if old.is_file() and (old.name.startswith("table.") or old.suffix in (".png", ".pdf")):
            old.unlink()
    for name in doc["files"]:
        shutil.copy2(art_dir / name, dest / name)
    print_sweep_table(doc)
    if tracker is not None:
        log_to_tracker(tracker, t, [art_dir / n for n in doc["files"] if n.endswith(".png")])
    n_missing = sum(1 for r in t.rows if r.missing)
    return {"members": len(sweep.members), "rows": len(t.rows), "rows_missing": n_missing,
            "columns": len(t.columns), "dir": str(dest), "files": doc["files"]}


def log_to_tracker(tracker: Any, t: SweepTable, pngs: list[Path]) -> None:
    """The sweep table as a W&B table (numbers, not text) and each plot as an image."""
    rows = []
    for r in t.rows:
        row: dict[str, Any] = {"run": r.label, "kind": r.kind}
        for c in t.columns:
            v = r.values.get(c.name)
            row[c.name] = v.mean if v else None
            row[f"{c.name}_se"] = v.se if v else None
        rows.append(row)
    tracker.table("sweep_table", rows)
    images = getattr(tracker, "images", None)
    if images is not None and pngs:
        images({f"plots/{p.stem}": p for p in pngs})

