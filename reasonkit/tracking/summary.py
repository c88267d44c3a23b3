"""What a run puts in W&B's summary so a sweep can be compared in W&B's own views.

W&B groups, filters and draws parallel coordinates over *summary* values and *config* keys. So an
eval cell (one model on one benchmark) writes its numbers as ``<benchmark>/<metric>`` summary
values, and the config it ran with as flat ``a.b.c`` keys, which the run table and parallel
coordinates can use as columns directly, whatever the nesting of the Hydra config.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_NUM = (int, float)


def flatten(d: Mapping[str, Any], prefix: str = "", sep: str = ".") -> dict[str, Any]:
    """``{"a": {"b": 1}, "c": [1, 2]}`` → ``{"a.b": 1, "c": [1, 2]}`` (lists stay values)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{sep}{k}" if prefix else str(k)
        if isinstance(v, Mapping) and v:
            out.update(flatten(v, key, sep))
        else:
            out[key] = v
    return out


def eval_summary(benchmark: str, metrics: Mapping[str, Any]) -> dict[str, float]:
    """Numeric metrics of one eval cell as ``<benchmark>/<metric>`` (nested dicts, e.g. per-subject
    breakdowns, become ``<benchmark>/<group>/<metric>``)."""
    flat = flatten(metrics, sep="/")
    return {f"{benchmark}/{k}": float(v) for k, v in flat.items()
            if isinstance(v, _NUM) and not isinstance(v, bool)}


def log_eval_cell(tracker: Any, benchmark: str, metrics: Mapping[str, Any],
                  config: Mapping[str, Any] | None = None) -> dict[str, float]:
    """Call once per eval cell, inside its tracked run: summary metrics + flattened config."""
    values = eval_summary(benchmark, metrics)
    if tracker is None:
        return values
    tracker.summary(values)
    if config:
        tracker.update_config(flatten(config))
    return values
