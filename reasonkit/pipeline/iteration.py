"""``iteration.rounds=K``: expert iteration, i.e. the pipeline run K times, the model trained in
round r generating (and being trained further) in round r+1.

Why a chain of ordinary runs: each round is a plain config (the previous round's ``train``
artifact's ``model/`` folder as teacher and student), so each round's artifacts are content-
addressed like any run's, a rerun reuses every finished round and resumes the first unfinished
one, and round 1 with ``first=teacher`` is exactly the single-round row (its generate, judge,
select, format and train are shared, not recomputed). Round r+1 can only be hashed once round r's
model exists (its weights are in the hash), so ``last_round`` walks the finished rounds: the
report of a sweep member plans, and reads, its last determinable round.
"""
from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf

from reasonkit.models.config import ModelConfig
from reasonkit.records import InputError

log = logging.getLogger("reasonkit")

# How a round's config is derived from the previous round's model; bump on any change.
ITERATION_VERSION = "1"
FIRST = ("student", "teacher")


@dataclass
class IterationConfig:
    # Rounds of generate → judge → select → format → train; 1: a plain run.
    rounds: int = 1
    # Who generates in round 1: "student" (expert iteration from the base model) or "teacher" (round
    # 1 is the plain distillation row; later rounds continue from its trained model).
    first: str = "student"


def rounds(cfg: Any) -> int:
    it = cfg.get("iteration") if isinstance(cfg, DictConfig) else None
    return int(it.rounds) if it is not None else 1


def check(cfg: DictConfig) -> None:
    it = cfg.iteration
    if it.rounds < 1:
        raise InputError(f"iteration.rounds: expected >= 1, got {it.rounds}")
    if it.first not in FIRST:
        raise InputError(f"iteration.first: expected {' | '.join(FIRST)}, got {it.first!r}")
    if it.rounds > 1:
        if cfg.get("generators"):
            raise InputError("iteration.rounds > 1 with generators: a round generates with the current model alone; "
                             "set generators=[]")
        if "train" not in cfg.pipeline:
            raise InputError(f"iteration.rounds={it.rounds}: each round trains the next round's model, but "
                             f"pipeline={list(cfg.pipeline)} has no train")


def round_config(cfg: DictConfig, r: int, prev_model: str | None) -> DictConfig:
    """Round ``r``'s plain config (``iteration.rounds=1``). Round 1: as configured (with
    ``first=student`` the student generates). Round r>1: ``prev_model`` (round r-1's trained model
    folder) is teacher and student, asked as the student is (its system prompt, not a teacher's:
    the training rows carry none); eval drops the teacher and
    student rows (they would be round r-1's model, not the baselines the table shows). Every round
    but the last stops before ``report``."""
    k = rounds(cfg)
    sub = copy.deepcopy(cfg)
    sub.iteration.rounds = 1
    if r == 1:
        if cfg.iteration.first == "student":
            sub.teacher = copy.deepcopy(cfg.student)
    else:
        assert prev_model is not None
        name = f"{cfg.student.name}-ei{r - 1}"
        model = OmegaConf.structured(ModelConfig(
            name=name, path=prev_model, chat_template=cfg.student.chat_template,
            system_prompt=cfg.student.system_prompt, dtype=cfg.student.dtype))
        sub.teacher = model
        sub.student = copy.deepcopy(model)
        models = [m for m in cfg.eval.models if m not in ("teacher", "student")]
        sub.eval.models = models or ["trained"]
    if r < k:
        sub.pipeline = [s for s in cfg.pipeline if s != "report"]
    return sub


def last_round(cfg: DictConfig, store: Any) -> tuple[int, DictConfig]:
    """The last round whose config is known: round r+1's needs round r's train artifact complete."""
    from reasonkit.pipeline.runner import plan

    sub = round_config(cfg, 1, None)
    for r in range(2, rounds(cfg) + 1):
        train = next(s for s in plan(sub, store, ["train"]) if s.stage.name == "train").artifact
        if not train.complete:
            return r - 1, sub
        sub = round_config(cfg, r, str(train.path / "model"))
    return rounds(cfg), sub
