"""Schema of the ``report`` group: which runs one table covers, and how it is drawn.

One run (the default) reports its own pipeline. ``sweep``, ``runs`` or ``experiment`` turn the
stage into a sweep report: one row per member, built only from the artifacts each member's saved
config points at, so it can be rebuilt at any time and a half-finished sweep gives half a table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass
class ReportConfig:
    name: str = "default"
    # A Hydra multirun folder (outputs/multirun/<date>/<time>), or "latest": the newest multirun
    # of ``experiment_name`` under paths.outputs.
    sweep: Optional[str] = None
    # Hydra run folders (absolute, or relative to paths.outputs/{runs,multirun}), one row each.
    runs: list[str] = field(default_factory=list)
    # Every run and sweep member whose saved config has this experiment_name.
    experiment: Optional[str] = None
    # Eval rows (model roles) that become one table row per member; other roles found in the
    # members' eval metrics (teacher, base student) are shown once, as baseline rows.
    models: list[str] = field(default_factory=lambda: ["trained"])
    baselines: list[str] = field(default_factory=lambda: ["teacher", "student"])
    # Metric columns, as fnmatch patterns over each benchmark's metric names.
    metrics: list[str] = field(default_factory=lambda: ["avg@*", "pass@*", "maj@*"])
    # Uncertainty shown next to a mean that has a ``<metric>_se``: "se" (± s.e.) or "ci95"
    # (the 95 % interval: the metric's own ``_lo``/``_hi`` when given, else ± 1.96 s.e.).
    interval: str = "se"
    # Output files, each a registered writer (reasonkit/report/render.py).
    formats: list[str] = field(default_factory=lambda: ["md", "tex", "csv", "json"])
    plots: bool = True
    # Build the sweep table at the end of every `reasonkit -m ...` (Hydra callback).
    after_multirun: bool = True
