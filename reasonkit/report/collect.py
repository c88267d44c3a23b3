"""From a member's saved config to the numbers its artifacts hold.

The runner's own ``plan`` turns the config into artifact paths, so the report reads exactly the
artifacts the run wrote (or would write) and never guesses. Eval metrics are read generically:
``metrics.json`` is the eval grid's ``{"cells": [{row, model, benchmark, n, avg@<n>, ...}], ...}``,
a list of such cells, a mapping of model row to either a metric dict (one benchmark: the run's
dataset) or a mapping benchmark → metric dict (older layouts); numeric leaves are metrics, anything
else (paths, breakdowns) is carried along. A cell's ``ci95`` pair is its avg@n's interval.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from omegaconf import OmegaConf

from reasonkit.pipeline.artifacts import Artifact
from reasonkit.report.members import Member

log = logging.getLogger("reasonkit")

_NUM = (int, float)
INFO_KEYS = ("step", "n", "problems", "samples")  # numbers that describe a cell rather than measure it
# The row eval.select_best chose (report.models=[picked]): its cells carry picked_row, picked_on.
PICKED = "picked"


@dataclass
class Cell:
    """One model row on one benchmark."""

    row: str
    benchmark: str
    metrics: dict[str, float]
    info: dict[str, Any] = field(default_factory=dict)  # model name, path, step, ...


@dataclass
class MemberData:
    member: Member
    artifacts: dict[str, Artifact] = field(default_factory=dict)  # complete ones only
    cells: list[Cell] = field(default_factory=list)

    def art(self, stage: str) -> Optional[Artifact]:
        return self.artifacts.get(stage)


def _is_metrics(d: dict[str, Any]) -> bool:
    return any(isinstance(v, _NUM) and not isinstance(v, bool) for v in d.values())


def _cell(row: str, bench: str, d: dict[str, Any]) -> Cell:
    nums = {k: float(v) for k, v in d.items()
            if isinstance(v, _NUM) and not isinstance(v, bool) and k not in INFO_KEYS}
    info = {k: v for k, v in d.items() if k not in nums}
    if isinstance(d.get("metrics"), dict):  # {"model": ..., "metrics": {...}} style cell
        nums.update({k: float(v) for k, v in d["metrics"].items() if isinstance(v, _NUM)})
        info.pop("metrics", None)
    ci = d.get("ci95")
    if isinstance(d.get("n"), int) and isinstance(ci, (list, tuple)) and len(ci) == 2:
        avg = f"avg@{d['n']}"  # the eval grid's bootstrap interval of avg@n (reasonkit/evaluation/cell.py)
        if avg in nums and all(isinstance(x, _NUM) for x in ci):
            nums.setdefault(f"{avg}_lo", float(ci[0]))
            nums.setdefault(f"{avg}_hi", float(ci[1]))
    return Cell(row, bench, nums, info)


def read_cells(metrics: Any, default_benchmark: str) -> list[Cell]:
    """Model-row × benchmark metric cells from an eval ``metrics.json`` of any supported layout."""
    cells: list[Cell] = []
    if isinstance(metrics, dict) and isinstance(metrics.get("cells"), list):  # the eval grid's layout
        pick = metrics.get("select_best")
        cells = read_cells(metrics["cells"], default_benchmark)
        if isinstance(pick, dict) and pick.get("row"):  # eval.select_best: the pick as row "picked"
            on = f"{pick.get('benchmark')}:{pick.get('metric')}"
            cells += [Cell(PICKED, c.benchmark, dict(c.metrics), {**c.info, "picked_row": pick["row"], "picked_on": on})
                      for c in cells if c.row == pick["row"]]
        return cells
    if isinstance(metrics, list):
        for c in metrics:
            if isinstance(c, dict):
                row = str(c.get("row") or c.get("model") or "model")
                cells.append(_cell(row, str(c.get("benchmark") or default_benchmark), c))
        return cells
    if not isinstance(metrics, dict):
        return cells
    for row, v in metrics.items():
        if not isinstance(v, dict):
            continue
        if _is_metrics(v) or isinstance(v.get("metrics"), dict):
            cells.append(_cell(str(row), str(v.get("benchmark") or default_benchmark), v))
            continue
        for bench, m in v.items():  # per-benchmark layout: {row: {benchmark: {metric: value}}}
            if isinstance(m, dict) and (_is_metrics(m) or isinstance(m.get("metrics"), dict)):
                cells.append(_cell(str(row), str(bench), m))
    return cells


def eval_metrics(art: Artifact) -> Any:
    p = art.path / "metrics.json"
    return json.loads(p.read_text()) if p.exists() else art.manifest.get("metrics", {})


_STEP = re.compile(r"(?:checkpoint|ckpt|step)[-_@ ]?(\d+)$")


def row_step(cell: Cell, train_steps: int | None) -> int | None:
    """Training step a model row stands for: base student 0, a checkpoint its number, the
    trained model the train artifact's last step; None for models off the student's axis."""
    if isinstance(cell.info.get("step"), int):
        return cell.info["step"]
    if cell.row == "student":
        return 0
    if cell.row == "trained":
        return train_steps
    m = _STEP.search(cell.row)
    return int(m.group(1)) if m else None


def _targets(cfg: Any) -> list[str]:
    stages = list(cfg.pipeline) if cfg.get("stage", "pipeline") == "pipeline" else [str(cfg.stage)]
    return [s for s in stages if s != "report"]


def collect(member: Member) -> MemberData:
    """Plan the member's run from its saved config; keep the complete artifacts, say what is not."""
    from reasonkit import stages  # noqa: F401 - registers stages
    from reasonkit.pipeline.artifacts import ArtifactStore
    from reasonkit.pipeline.runner import plan

    data = MemberData(member)
    cfg = member.config
    if cfg is None:
        return data
    store = ArtifactStore(OmegaConf.select(cfg, "paths.artifacts"))
    targets = _targets(cfg)
    try:
        steps = plan(cfg, store, targets)
    except Exception as e:  # noqa: BLE001 - a row says why it is empty instead of failing the table
        member.missing.append(f"cannot plan its artifacts from {member.job_dir}/.hydra/config.yaml: "
                              f"{str(e).splitlines()[0] if str(e) else type(e).__name__}")
        return data
    for s in steps:
        if s.artifact.complete:
            data.artifacts[s.stage.name] = s.artifact
        else:
            member.missing.append(f"{s.stage.name}: {s.artifact.path.parent.name}/{s.artifact.path.name} "
                                  "not complete")
    if "dynamics" not in targets and cfg.get("dynamics") is not None and "train" in data.artifacts:
        try:  # a dynamics run made separately (stage=dynamics) for this member's training
            extra = [s for s in plan(cfg, store, ["dynamics"]) if s.stage.name == "dynamics"]
            if extra and extra[0].artifact.complete:
                data.artifacts["dynamics"] = extra[0].artifact
        except Exception:  # noqa: BLE001 - optional
            pass
    ev = data.art("eval")
    if ev is not None:
        bench = str(OmegaConf.select(cfg, "dataset.name", default="benchmark"))
        data.cells = read_cells(eval_metrics(ev), bench)
    return data


def train_steps(data: MemberData) -> int | None:
    tr = data.art("train")
    if tr is None:
        return None
    steps = tr.manifest.get("metrics", {}).get("steps")
    return int(steps) if isinstance(steps, (int, float)) else None


def train_history(art: Artifact) -> list[dict[str, Any]]:
    """Trainer log history: the artifact's ``train_log.json``, else the last checkpoint's
    ``trainer_state.json`` (a run still training, or one killed before the final save)."""
    p = art.path / "train_log.json"
    if p.exists():
        return json.loads(p.read_text())
    states = sorted(art.path.glob("checkpoints/checkpoint-*/trainer_state.json"),
                    key=lambda q: int(q.parent.name.rsplit("-", 1)[-1]))
    return json.loads(states[-1].read_text()).get("log_history", []) if states else []
