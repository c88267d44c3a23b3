"""``stage=report``: results tables, printed and written, from artifacts only.

Two modes. A run's own report (the last stage of ``pipeline``) summarises its judge, selection and
eval artifacts. A sweep report (``report.sweep`` / ``report.runs`` / ``report.experiment``, and
automatically at the end of ``reasonkit -m``) puts every member side by side; its artifact hash
covers which member artifacts were complete, so rerunning it after more members finish builds a
fuller table while an unchanged sweep is simply reprinted.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reasonkit.pipeline.stage import Stage, StageContext, register
from reasonkit.report.table import markdown, print_table

SOURCES = ("judge", "select", "train", "eval")
VERSION = 4


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _rel(art) -> str:
    """Artifact path relative to the artifact root (``<stage>/<name>-<hash>``): short, unique."""
    return f"{art.path.parent.name}/{art.path.name}"


def rows(inputs: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    from reasonkit.report.collect import eval_metrics, read_cells

    head = ["row", "model", "metric", "value", "artifact"]
    body: list[list[str]] = []
    if "judge" in inputs:
        m = inputs["judge"].manifest["metrics"]
        body.append(["teacher traces", inputs["generate_model"], "accuracy (judged samples)",
                     f"{_pct(m['accuracy'])} ({m['correct']}/{m['samples']})", _rel(inputs["judge"])])
    if "select" in inputs:
        m = inputs["select"].manifest["metrics"]
        body.append(["selection", inputs["selection"], "samples kept", f"{m['kept']}/{m['seen']}",
                     _rel(inputs["select"])])
    if "eval" in inputs:
        for c in read_cells(eval_metrics(inputs["eval"]), inputs["benchmark"]):
            m = c.metrics
            avg = next((k for k in m if k.startswith("avg@") and not k.endswith("_se")), None)
            if avg is None:
                continue
            extra = ", ".join(f"{k} {_pct(m[k])}" for k in m if k.startswith(("pass@", "maj@")))
            se = m.get(f"{avg}_se")
            name = f"eval: {c.row}/{c.benchmark}"  # the eval stage's own "<row>/<benchmark>" naming
            body.append([name, str(c.info.get("model", c.row)), f"{avg} ± s.e.",
                         f"{_pct(m[avg])}" + (f" ± {100 * se:.1f}" if se is not None else "") + f" ({extra})",
                         _rel(inputs["eval"])])
    return head, body


def _sweep_mode(cfg) -> bool:
    r = cfg.get("report")
    return r is not None and bool(r.get("sweep") or r.get("runs") or r.get("experiment"))


def _resolve(cfg):
    from reasonkit.report import members

    return members.resolve(cfg.report, Path(cfg.paths.outputs), cfg.experiment_name)


def _run_report_path(cfg, out_name: str) -> Path:
    """Where a run's own report goes: its sweep's folder for a multirun member (so members never
    overwrite each other), else ``reports/<experiment>.md`` (the latest single run)."""
    from reasonkit.launch.context import current

    reports = Path(cfg.paths.reports)
    ctx = current()
    if ctx.sweep:
        return reports / cfg.experiment_name / ctx.sweep / "runs" / f"{ctx.job_num}-{out_name}.md"
    return reports / f"{cfg.experiment_name}.md"


@register
class ReportStage(Stage):
    name = "report"
    version = VERSION

    def needs(self, cfg):
        return () if _sweep_mode(cfg) else tuple(s for s in SOURCES if s in cfg.pipeline)

    def keys(self, cfg):
        if not _sweep_mode(cfg):
            return {"experiment_name": cfg.experiment_name, "benchmark": cfg.dataset.name,
                    "teacher": cfg.teacher.name, "selection": cfg.selection.name, "report": cfg.report}
        from reasonkit.report.collect import collect

        sweep = _resolve(cfg)
        found = []
        for m in sweep.members:
            d = collect(m)
            found.append({"key": m.key, "label": m.label, "job": str(m.job_dir),
                          "artifacts": sorted(str(a.path) for a in d.artifacts.values())})
        return {"report": cfg.report, "experiment_name": cfg.experiment_name, "sweep": sweep.sweep_id,
                "members": found, "reports": cfg.paths.reports}

    def code(self, cfg):
        from reasonkit.report.sweep_table import TABLE_VERSION

        return {"table": TABLE_VERSION} if _sweep_mode(cfg) else {}

    def label(self, cfg):
        if _sweep_mode(cfg):
            s = _resolve(cfg)
            return f"{s.experiment}-{s.sweep_id}"
        return cfg.experiment_name

    def validate(self, cfg) -> None:
        if _sweep_mode(cfg):
            from reasonkit.report.render import WRITERS

            for f in cfg.report.formats:
                WRITERS.get(f)
            if cfg.report.interval not in ("se", "ci95"):
                raise ValueError(f"report.interval: expected 'se' or 'ci95', got {cfg.report.interval!r}")

    def run(self, ctx: StageContext) -> dict[str, Any]:
        if _sweep_mode(ctx.cfg):
            from reasonkit.report.sweep import build_sweep_report

            return build_sweep_report(ctx.cfg, _resolve(ctx.cfg), ctx.out.path, ctx.tracker)
        cfg = ctx.cfg
        inputs: dict[str, Any] = dict(ctx.inputs)
        inputs["generate_model"] = cfg.teacher.name
        inputs["selection"] = cfg.selection.name
        inputs["benchmark"] = cfg.dataset.name
        head, body = rows(inputs)
        title = f"reasonkit results: {cfg.experiment_name}"
        md = f"# {title}\n\n" + markdown(head, body) + f"\n\nArtifacts under `{ctx.store.root}`.\n"
        (ctx.out.path / "report.md").write_text(md)
        (ctx.out.path / "table.json").write_text(json.dumps({"title": title, "head": head, "body": body}))
        dest = _run_report_path(cfg, ctx.out.path.name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(md)
        print_table(title, head, body, f"artifacts under {ctx.store.root}")
        return {"rows": len(body), "markdown": str(dest)}


def reprint(art) -> None:
    """Show a finished report again (a rerun reuses the artifact and computes nothing); a sweep
    report also restores its files under reports/ if they were deleted."""
    t = json.loads((art.path / "table.json").read_text())
    if "columns" in t:  # a sweep table
        from reasonkit.report.sweep import print_sweep_table, restore

        restore(art)
        print_sweep_table(t, reused=True)
        return
    print_table(t["title"] + " (reused)", t["head"], t["body"], f"artifacts under {art.path.parents[1]}")

