"""Plans and runs stages: hash every needed artifact, reuse finished ones, compute the rest once.

The whole plan (hashes of every stage up to the target) is computed and every stage's
``validate`` is called before the first stage does any work, so bad input or a missing upstream
fails fast, and a second identical command does no work at all.
"""
from __future__ import annotations

import logging
import subprocess
import time
import traceback
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig, OmegaConf

from reasonkit.pipeline.artifacts import Artifact, ArtifactStore, MissingArtifact
from reasonkit.pipeline.identity import canonical, digest
from reasonkit.pipeline.stage import STAGES, Stage, StageContext, StagePending

log = logging.getLogger("reasonkit")


_canonical = canonical


@dataclass
class Step:
    stage: Stage
    artifact: Artifact
    inputs: dict[str, Artifact]
    keys: Any
    code: dict[str, str]


def _source(cfg: DictConfig, reader: str, dep: str) -> str:
    """The stage whose artifact ``reader`` receives as its input ``dep``: a stage whose
    ``wraps(cfg, reader)`` names ``dep`` stands in for it (``transform`` after ``judge``: select
    and score read the transformed samples)."""
    for st in STAGES.values():
        if st.name != reader and st.wraps(cfg, reader) == dep:
            return st.name
    return dep


def plan(cfg: DictConfig, store: ArtifactStore, targets: list[str]) -> list[Step]:
    """Topologically ordered steps needed for ``targets`` (dependencies first, each once). With
    ``iteration.rounds`` > 1: the steps of the last round whose config is known (iteration.py)."""
    from reasonkit.pipeline import iteration

    if iteration.rounds(cfg) > 1:
        cfg = iteration.last_round(cfg, store)[1]
    steps: dict[str, Step] = {}

    def visit(name: str, chain: tuple[str, ...] = ()) -> Step:
        if name in steps:
            return steps[name]
        if name not in STAGES:
            raise KeyError(f"stage={name!r}: unknown stage; expected one of {sorted(STAGES)} or 'pipeline'")
        if name in chain:
            raise ValueError(f"stage dependency cycle: {' -> '.join(chain + (name,))}")
        stage = STAGES[name]
        ins = {dep: visit(_source(cfg, name, dep), chain + (name,)).artifact for dep in stage.needs(cfg)}
        keys = _canonical(stage.keys(cfg))
        code = stage.code(cfg)
        art = store.artifact(name, stage.label(cfg),
                             digest(stage.name, stage.version, keys, code, [a.hash for a in ins.values()]))
        steps[name] = Step(stage, art, ins, keys, code)
        return steps[name]

    for t in targets:
        visit(t)
    return list(steps.values())


def _git_sha() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                              check=True).stdout.strip() or None
    except Exception:  # noqa: BLE001 - provenance only, never fatal
        return None


def execute(cfg: DictConfig, step: Step, store: ArtifactStore, tracker_factory=None) -> tuple[Artifact, bool]:
    """Compute one step's artifact unless it exists. Returns (artifact, computed?)."""
    art = step.artifact
    if art.complete:
        log.info("[%s] reusing %s (already complete, no work done)", step.stage.name, art.path)
        return art, False
    # A stage whose shards run as separate processes locks its own parts (generate: sharding.py);
    # holding the artifact lock here would run the shards one after another.
    concurrent = getattr(step.stage, "concurrent", lambda cfg: False)(cfg)
    with (nullcontext() if concurrent else store.lock(art)):
        if art.complete:  # another process finished it while we waited
            log.info("[%s] reusing %s (computed by another process)", step.stage.name, art.path)
            return art, False
        for dep in step.inputs.values():
            dep.require()
        store.begin(art, step.stage.resumable)
        tracker = tracker_factory() if tracker_factory else None
        if tracker:
            tracker.start(step.stage.name, _canonical(step.keys), cfg.experiment_name, art.path.name)
        ctx = StageContext(cfg=cfg, store=store, out=art, inputs=step.inputs, log=log, tracker=tracker)
        t0 = time.time()
        ok = False
        try:
            log.info("[%s] computing %s", step.stage.name, art.path)
            metrics = step.stage.run(ctx) or {}
            manifest = {"stage": step.stage.name, "stage_version": step.stage.version, "hash": art.hash,
                        "code": step.code,
                        "inputs": {k: str(v.path) for k, v in step.inputs.items()}, "metrics": metrics,
                        "seconds": round(time.time() - t0, 3), "git_sha": _git_sha(), **ctx.metrics}
            if tracker:
                tracker.log({f"{step.stage.name}/{k}": v for k, v in metrics.items()
                             if isinstance(v, (int, float))})
                manifest["tracking"] = getattr(tracker, "run_id", None)
            if not concurrent:
                store.finish(art, manifest, OmegaConf.to_yaml(OmegaConf.create(step.keys)))
            else:
                with store.lock(art):  # the artifact completes once, by whichever shard is last
                    if not art.complete:
                        store.finish(art, manifest, OmegaConf.to_yaml(OmegaConf.create(step.keys)))
            ok = True
            log.info("[%s] done in %.1fs -> %s", step.stage.name, time.time() - t0, art.path)
        except StagePending:
            store.abandon(art, step.stage.resumable)
            raise
        except BaseException as e:
            store.abandon(art, step.stage.resumable)
            from reasonkit.checks import is_one_line

            if is_one_line(e):  # the CLI prints it as one line; a traceback would bury it
                log.error("[%s] stopped: %s", step.stage.name, e)
            else:
                log.error("[%s] failed:\n%s", step.stage.name, traceback.format_exc())
            raise
        finally:
            if tracker:
                tracker.finish(ok)
    return art, True


@dataclass
class RunResult:
    """What ``run`` did: every planned artifact, which of them this call computed, and the stages
    whose work was left to other processes (shards still pending)."""

    planned: dict[str, Artifact] = field(default_factory=dict)
    done: dict[str, Artifact] = field(default_factory=dict)
    computed: set[Artifact] = field(default_factory=set)
    pending: dict[str, str] = field(default_factory=dict)

    def computed_names(self) -> set[str]:
        return {a.stage for a in self.computed}


def validate(stage: Stage, cfg: DictConfig) -> None:
    """A stage's validate reads only the user's config, so what it refuses (its ValueErrors, and the
    TypeError of a library config given an unknown key) is the user's mistake: one line, no traceback."""
    from reasonkit.checks import ConfigError
    from reasonkit.records import InputError

    try:
        stage.validate(cfg)
    except InputError:
        raise
    except (ValueError, TypeError) as e:
        raise ConfigError([" ".join(str(e).split())]) from e


def run(cfg: DictConfig, tracker_factory=None) -> RunResult:
    """Run ``cfg.stage`` ("pipeline" = every stage of ``cfg.pipeline``, with dependencies).

    A single named stage runs alone: its inputs must already exist, and their expected paths are
    named when they do not. Local shard processes, SLURM array tasks and plain runs all come
    through here. A stage that did its part while others finish the artifact (``StagePending``)
    ends the run without error: the later stages wait for a run that sees it complete.
    """
    from reasonkit.checks import check_config
    from reasonkit.pipeline import iteration

    check_config(cfg)  # out-of-range values, one line each, before any stage works
    if cfg.get("iteration") is not None:
        iteration.check(cfg)
    store = ArtifactStore(cfg.paths.artifacts)
    if iteration.rounds(cfg) > 1:
        if cfg.stage == "pipeline":
            return run_rounds(cfg, store, tracker_factory)
        cfg = iteration.last_round(cfg, store)[1]  # a single stage: of the last known round
    if cfg.stage == "pipeline":
        steps = plan(cfg, store, list(cfg.pipeline))
    else:
        steps = [s for s in plan(cfg, store, [cfg.stage]) if s.stage.name == cfg.stage]
        for dep in steps[0].inputs.values():
            if not dep.complete:
                raise MissingArtifact(
                    f"stage={cfg.stage} needs the '{dep.stage}' artifact {dep.path}, which is missing or "
                    f"incomplete; run `reasonkit stage={dep.stage}` (same overrides) or stage=pipeline")
    for s in steps:  # fail on bad input before any stage does work
        if not s.artifact.complete:
            validate(s.stage, cfg)
    result = RunResult(planned={s.stage.name: s.artifact for s in steps})
    for s in steps:
        try:
            art, computed = execute(cfg, s, store, tracker_factory)
        except StagePending as e:
            log.info("%s", e)
            result.pending[s.stage.name] = str(e)
            break
        result.done[s.stage.name] = art
        if computed:
            result.computed.add(art)
    if not result.computed and not result.pending:
        log.info("all %d stage(s) reused from %s: nothing to compute", len(steps), store.root)
    return result


def run_rounds(cfg: DictConfig, store: ArtifactStore, tracker_factory=None) -> RunResult:
    """``iteration.rounds`` rounds, each a plain run whose student is the previous round's trained
    model; ``planned``/``done`` name round r's artifacts ``<stage>@<r>`` (the last round's also
    plain ``<stage>``)."""
    from reasonkit.pipeline import iteration

    k = iteration.rounds(cfg)
    total = RunResult()
    prev: str | None = None
    for r in range(1, k + 1):
        sub = iteration.round_config(cfg, r, prev)
        log.info("[iteration] round %d/%d: generate with %s, train %s", r, k, sub.teacher.name, sub.student.name)
        res = run(sub, tracker_factory)
        for name, art in res.planned.items():
            total.planned[f"{name}@{r}"] = art
        for name, art in res.done.items():
            total.done[f"{name}@{r}"] = art
        total.computed |= res.computed
        if res.pending:
            total.pending.update({f"{n}@{r}": v for n, v in res.pending.items()})
            return total
        prev = str(res.done["train"].path / "model")
    total.planned.update({n.rsplit("@", 1)[0]: a for n, a in total.planned.items() if n.endswith(f"@{k}")})
    total.done.update({n.rsplit("@", 1)[0]: a for n, a in total.done.items() if n.endswith(f"@{k}")})
    return total
