"""Schema of the ``tracking`` group (``conf/tracking/{none,wandb}.yaml``).

The W&B API key is deliberately not a field: wandb reads ``WANDB_API_KEY`` from the environment
itself, so the key never enters a config that could be saved or logged.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

BACKENDS = ("none", "wandb")
MODES = ("online", "offline", "disabled", "shared")


@dataclass
class TrackingConfig:
    backend: str = "none"
    # online | offline | disabled (| shared). The YAML reads it from WANDB_MODE when set.
    mode: str = "offline"
    project: str = "reasonkit"
    entity: Optional[str] = None
    # Run group; default: the experiment name, plus the sweep id when the run is part of a sweep,
    # so each sweep's stage runs appear together and an experiment's sweeps stay apart.
    group: Optional[str] = None
    tags: list[str] = field(default_factory=list)
    notes: Optional[str] = None
    # wandb writes <dir>/wandb/<run>; never the cwd (Hydra does not chdir into job dirs).
    dir: Optional[str] = None
    # Off by default: console capture copies everything printed into the run files, which is the
    # one path by which a secret printed by some library would escape redaction.
    console: str = "off"
    # Row cap for any logged table.
    max_table_rows: int = 1000
    # A requeued SLURM job continues the same W&B run (id derived from run name + SLURM job id).
    resume_on_requeue: bool = True
    # Passed straight to ``wandb.Settings`` (e.g. {x_disable_stats: true, init_timeout: 120}).
    settings: dict[str, Any] = field(default_factory=dict)
