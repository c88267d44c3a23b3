"""``stage=report``: the results table, printed and written as Markdown, from artifacts only."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reasonkit.pipeline.stage import Stage, StageContext, register
from reasonkit.report.table import markdown, print_table

SOURCES = ("judge", "select", "train", "eval")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _rel(art) -> str:
    """Artifact path relative to the artifact root (``<stage>/<name>-<hash>``): short, unique."""
    return f"{art.path.parent.name}/{art.path.name}"


def rows(inputs: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
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
        metrics = inputs["eval"].manifest["metrics"]
        for row, r in metrics.items():
            n = r["n"]
            extra = ", ".join(f"{k} {_pct(r[k])}" for k in r if k.startswith(("pass@", "maj@")))
            body.append([f"eval: {row}", r["model"], f"avg@{n} ± s.e.",
                         f"{_pct(r[f'avg@{n}'])} ± {100 * r[f'avg@{n}_se']:.1f} ({extra})", _rel(inputs["eval"])])
    return head, body


@register
class ReportStage(Stage):
    name = "report"
    version = 2

    def needs(self, cfg):
        return tuple(s for s in SOURCES if s in cfg.pipeline)

    def keys(self, cfg):
        return {"experiment_name": cfg.experiment_name}

    def label(self, cfg):
        return cfg.experiment_name

    def run(self, ctx: StageContext) -> dict[str, Any]:
        cfg = ctx.cfg
        inputs: dict[str, Any] = dict(ctx.inputs)
        inputs["generate_model"] = cfg.teacher.name
        inputs["selection"] = cfg.selection.name
        head, body = rows(inputs)
        title = f"reasonkit results: {cfg.experiment_name}"
        md = f"# {title}\n\n" + markdown(head, body) + f"\n\nArtifacts under `{ctx.store.root}`.\n"
        (ctx.out.path / "report.md").write_text(md)
        (ctx.out.path / "table.json").write_text(json.dumps({"title": title, "head": head, "body": body}))
        reports = Path(cfg.paths.reports)
        reports.mkdir(parents=True, exist_ok=True)
        (reports / f"{cfg.experiment_name}.md").write_text(md)
        print_table(title, head, body, f"artifacts under {ctx.store.root}")
        return {"rows": len(body), "markdown": str(reports / f"{cfg.experiment_name}.md")}


def reprint(art) -> None:
    """Show a finished report again (a rerun reuses the artifact and computes nothing)."""
    t = json.loads((art.path / "table.json").read_text())
    print_table(t["title"] + " (reused)", t["head"], t["body"], f"artifacts under {art.path.parents[1]}")
