"""A W&B workspace for one experiment, generated from code.

``workspace_spec`` is plain data (tested offline): which runs (the experiment's eval runs,
grouped by sweep), which panels (parallel coordinates from the swept config keys to each
``<benchmark>/<metric>`` summary value, a bar chart per metric, training-loss curves).
``build_workspace`` turns it into a ``wandb_workspaces`` Workspace; saving it needs a W&B server
and the optional ``wandb-workspaces`` package, neither of which the tests have.
"""
from __future__ import annotations

from typing import Any


def workspace_spec(entity: str | None, project: str, experiment: str, swept: list[str],
                   metrics: list[str]) -> dict[str, Any]:
    """``swept``: flattened config keys that vary (e.g. ``selection.name``); ``metrics``: summary
    keys ``<benchmark>/<metric>`` (e.g. from ``reasonkit.tracking.summary.eval_summary``)."""
    return {
        "name": f"reasonkit: {experiment}", "entity": entity, "project": project,
        "runset": {"filters": f"JobType = 'eval' and Group in ['{experiment}']",
                   "group_prefix": experiment, "groupby": ["Group"] + [f"config:{k}" for k in swept]},
        "sections": [
            {"name": "Sweep", "panels": [
                {"type": "parallel_coordinates", "columns": [f"config:{k}" for k in swept]
                 + [f"summary:{m}" for m in metrics]}]
             + [{"type": "bar", "metric": f"summary:{m}"} for m in metrics]},
            {"name": "Training", "panels": [{"type": "line", "x": "Step", "y": ["train/loss"]}]},
        ],
    }


def build_workspace(spec: dict[str, Any]) -> Any:  # pragma: no cover - needs wandb-workspaces
    import wandb_workspaces.reports.v2 as wr
    import wandb_workspaces.workspaces as ws

    def column(c: str) -> Any:
        kind, key = c.split(":", 1)
        return wr.ParallelCoordinatesPlotColumn(metric=wr.Config(key) if kind == "config" else wr.SummaryMetric(key))

    sections = []
    for sec in spec["sections"]:
        panels = []
        for p in sec["panels"]:
            if p["type"] == "parallel_coordinates":
                panels.append(wr.ParallelCoordinatesPlot(columns=[column(c) for c in p["columns"]]))
            elif p["type"] == "bar":
                panels.append(wr.BarPlot(metrics=[wr.SummaryMetric(p["metric"].split(":", 1)[1])]))
            elif p["type"] == "line":
                panels.append(wr.LinePlot(x=p["x"], y=p["y"]))
        sections.append(ws.Section(name=sec["name"], panels=panels, is_open=True))
    return ws.Workspace(name=spec["name"], entity=spec["entity"], project=spec["project"], sections=sections,
                        runset_settings=ws.RunsetSettings(filters=spec["runset"]["filters"]))
