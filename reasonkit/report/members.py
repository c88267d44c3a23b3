"""Which runs one sweep table covers, and what each one's label is.

Hydra leaves everything needed in the run folders: ``<job>/.hydra/config.yaml`` (the composed
config, from which the runner's plan names every artifact) and ``<job>/.hydra/overrides.yaml``
(the command-line overrides, whose differences label the rows). A multirun folder also keeps
``multirun.yaml`` with the sweep's own overrides, so members that never started are still listed
(as missing) instead of silently dropping out of the table.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf


class ReportInputError(ValueError):
    """A report.* setting that names no usable run (shown as one line, no traceback)."""


@dataclass
class Member:
    """One row of a sweep table: a run folder (None if the job never started) and its overrides."""

    key: str                          # stable id within the sweep: job number or run folder name
    overrides: list[str]
    job_dir: Path | None = None
    config: DictConfig | None = None
    label: str = ""
    missing: list[str] = field(default_factory=list)  # human reasons this row is incomplete


@dataclass
class Sweep:
    experiment: str
    sweep_id: str                     # folder name under reports/<experiment>/
    members: list[Member]
    source: str                       # what the user asked for, for the caption
    common: list[str] = field(default_factory=list)  # overrides shared by every member


def _overrides(job: Path) -> list[str]:
    p = job / ".hydra" / "overrides.yaml"
    return [str(o) for o in (yaml.safe_load(p.read_text()) or [])] if p.exists() else []


def _config(job: Path) -> DictConfig | None:
    p = job / ".hydra" / "config.yaml"
    return OmegaConf.load(p) if p.exists() else None  # type: ignore[return-value]


def _expected_jobs(sweep_dir: Path) -> list[list[str]] | None:
    """Every job's override list, expanded from ``multirun.yaml`` as Hydra's basic sweeper does;
    None when that is not possible (no file, or a sweep that needs the config repo, e.g. glob)."""
    p = sweep_dir / "multirun.yaml"
    if not p.exists():
        return None
    try:
        from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
        from hydra.core.override_parser.overrides_parser import OverridesParser

        task = OmegaConf.load(p).hydra.overrides.task
        params = OmegaConf.load(p).hydra.sweeper.get("params") or {}
        args = [f"{k}={v}" for k, v in params.items()] + [str(t) for t in task]
        parsed = OverridesParser.create().parse_overrides(args)
        return BasicSweeper.split_arguments(parsed, None)[0]
    except Exception:  # noqa: BLE001 - fall back to the job folders that exist
        return None


def _is_job(p: Path) -> bool:
    return (p / ".hydra" / "config.yaml").exists()


def from_sweep_dir(sweep_dir: Path) -> Sweep:
    if not sweep_dir.is_dir():
        raise ReportInputError(f"report.sweep={sweep_dir}: no such folder (expected a Hydra multirun "
                               "folder such as outputs/multirun/<date>/<time>)")
    jobs = {p.name: p for p in sorted(sweep_dir.iterdir()) if p.is_dir() and _is_job(p)}
    expected = _expected_jobs(sweep_dir)
    members: list[Member] = []
    if expected is not None:
        for num, ov in enumerate(expected):
            job = jobs.pop(str(num), None)
            members.append(Member(str(num), _overrides(job) if job else list(ov), job))
    for name, job in sorted(jobs.items(), key=lambda kv: (not kv[0].isdigit(), int(kv[0]) if kv[0].isdigit() else 0, kv[0])):
        members.append(Member(name, _overrides(job), job))
    if not members:
        raise ReportInputError(f"report.sweep={sweep_dir}: no job folders (<n>/.hydra/config.yaml) and no "
                               "multirun.yaml: not a Hydra multirun folder")
    for m in members:
        m.config = _config(m.job_dir) if m.job_dir else None
        if m.job_dir is None:
            m.missing.append("job never started (no run folder)")
    exp = _experiment(members)
    # Same id as the tracker's sweep group (reasonkit/launch/context.py): <date>-<time>.
    return Sweep(exp, "-".join(sweep_dir.resolve().parts[-2:]), members, str(sweep_dir))


MAX_EXPERIMENT_CHARS = 120


def _experiment(members: list[Member]) -> str:
    names = sorted({str(m.config.get("experiment_name", "demo")) for m in members if m.config is not None})
    if not names:
        return "unknown"
    joined = "+".join(names)
    if len(joined) <= MAX_EXPERIMENT_CHARS:
        return joined
    # a study's whole table (e.g. nine llh_selection rows) would exceed a file name's 255 bytes:
    # name it by what the rows' names share and how many there are
    common = os.path.commonprefix(names).rstrip("-_/") or names[0][:MAX_EXPERIMENT_CHARS // 2]
    return f"{common}+{len(names)}_runs"


def _multiruns(outputs: Path) -> list[Path]:
    return sorted((p for p in (outputs / "multirun").glob("*/*") if p.is_dir()), key=lambda p: p.parts[-2:])


def latest_sweep(outputs: Path, experiment: str) -> Path:
    """The newest multirun folder with a member of ``experiment``."""
    for sweep in reversed(_multiruns(outputs)):
        for job in sweep.iterdir():
            cfg = _config(job) if job.is_dir() else None
            if cfg is not None and cfg.get("experiment_name") == experiment:
                return sweep
    raise ReportInputError(f"report.sweep=latest: no multirun of experiment_name={experiment!r} under "
                           f"{outputs / 'multirun'}")


def _resolve_run(outputs: Path, run: str) -> Path:
    for cand in (Path(run), outputs / "runs" / run, outputs / "multirun" / run, outputs / run):
        if _is_job(cand):
            return cand
    raise ReportInputError(f"report.runs: {run!r} is not a run folder (expected <dir>/.hydra/config.yaml, "
                           f"absolute or under {outputs}/runs or {outputs}/multirun)")


def from_runs(outputs: Path, runs: list[str]) -> Sweep:
    jobs = [_resolve_run(outputs, r) for r in runs]
    members = [Member(str(j.relative_to(outputs)) if j.is_relative_to(outputs) else str(j), _overrides(j), j,
                      _config(j)) for j in jobs]
    digest = hashlib.sha256("\n".join(sorted(str(j.resolve()) for j in jobs)).encode()).hexdigest()[:10]
    return Sweep(_experiment(members), f"runs-{digest}", members, ", ".join(runs))


def from_experiment(outputs: Path, experiment: str) -> Sweep:
    jobs = [p.parent.parent for p in sorted(outputs.glob("runs/*/*/.hydra/config.yaml"))]
    jobs += [p.parent.parent for p in sorted(outputs.glob("multirun/*/*/*/.hydra/config.yaml"))]
    members = []
    for j in jobs:
        cfg = _config(j)
        if cfg is not None and cfg.get("experiment_name") == experiment:
            members.append(Member(str(j.relative_to(outputs)), _overrides(j), j, cfg))
    if not members:
        raise ReportInputError(f"report.experiment={experiment!r}: no run under {outputs}/runs or "
                               f"{outputs}/multirun has experiment_name={experiment!r}")
    return Sweep(experiment, "all-runs", members, f"experiment {experiment}")


def _split(o: str) -> tuple[str, str]:
    k, _, v = o.partition("=")
    return k.lstrip("+~"), v


def label(sweep: Sweep) -> None:
    """Label each member by the overrides that differ between members (``k=v, ...``); the shared
    ones go to ``sweep.common`` for the caption. Duplicate labels get the member key appended."""
    maps = [dict(_split(o) for o in m.overrides) for m in sweep.members]
    keys: list[str] = []
    for d in maps:
        keys += [k for k in d if k not in keys]
    varying = [k for k in keys if len({d.get(k) for d in maps}) > 1]
    sweep.common = [f"{k}={maps[0][k]}" for k in keys if k not in varying and k in maps[0]]
    for m, d in zip(sweep.members, maps):
        m.label = ", ".join(f"{k}={d[k]}" for k in varying if k in d) or m.key
    seen: dict[str, int] = {}
    for m in sweep.members:
        seen[m.label] = seen.get(m.label, 0) + 1
    for m in sweep.members:
        if seen[m.label] > 1:
            m.label = f"{m.label} [{m.key}]"


def resolve(report: Any, outputs: Path, experiment_name: str) -> Sweep | None:
    """The sweep ``report.*`` names, or None for an ordinary single-run report."""
    given = [n for n in ("sweep", "runs", "experiment") if report.get(n)]
    if len(given) > 1:
        raise ReportInputError(f"report: set one of report.sweep, report.runs, report.experiment (got {given})")
    if report.get("sweep"):
        s = str(report.get("sweep"))
        sweep = from_sweep_dir(latest_sweep(outputs, experiment_name) if s == "latest" else Path(s))
    elif report.get("runs"):
        sweep = from_runs(outputs, [str(r) for r in report.get("runs")])
    elif report.get("experiment"):
        sweep = from_experiment(outputs, str(report.get("experiment")))
    else:
        return None
    label(sweep)
    return sweep
