"""Stage protocol: a stage is a function of (the config it reads, the code it runs, its input
artifacts) → artifact.

A stage declares the config values that determine its output (``keys``) and the versions of the
code it runs (``code``); those, its inputs' hashes and its ``version`` enter the artifact hash
(``reasonkit.pipeline.identity``). That is what lets a sweep over ``selection`` reuse the
generation and judging artifacts, and what makes a bumped extractor recompute judging and
everything after it. ``tests/pipeline/test_identity_reads.py`` checks that every value a stage
reads while running is in its keys.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar

from omegaconf import DictConfig

from reasonkit.pipeline.artifacts import Artifact, ArtifactStore

STAGES: dict[str, "Stage"] = {}


class StagePending(RuntimeError):
    """This process did its part (e.g. one shard); the artifact completes in another process."""


@dataclass
class StageContext:
    cfg: DictConfig
    store: ArtifactStore
    out: Artifact
    inputs: dict[str, Artifact]
    log: logging.Logger
    tracker: Any = None
    metrics: dict[str, Any] = field(default_factory=dict)


class Stage:
    name: ClassVar[str]
    version: ClassVar[int] = 1
    inputs: ClassVar[tuple[str, ...]] = ()
    resumable: ClassVar[bool] = False  # keep partial output after a crash and continue from it

    def needs(self, cfg: DictConfig) -> tuple[str, ...]:
        """Upstream stages this run needs (some stages' inputs depend on config)."""
        return self.inputs

    def wraps(self, cfg: DictConfig, reader: str) -> str | None:
        """The input of stage ``reader`` whose artifact this stage stands in for (``transform``
        after ``judge``: select and score read the transformed samples, report still reads the
        judge's counts); None for most stages. The runner wires it (``runner._source``)."""
        return None

    def keys(self, cfg: DictConfig) -> dict[str, Any]:
        """The resolved config subtree that determines this stage's output."""
        raise NotImplementedError

    def code(self, cfg: DictConfig) -> dict[str, str]:
        """Versions of the code this stage runs for this config (extractor, checker, writers…)."""
        return {}

    def label(self, cfg: DictConfig) -> str:
        """Human part of the artifact directory name (``<label>-<hash>``)."""
        return self.name

    def validate(self, cfg: DictConfig) -> None:
        """Check inputs/config before any stage of the run does work (bad input fails early)."""

    def run(self, ctx: StageContext) -> dict[str, Any]:
        """Compute into ``ctx.out.path``; return metrics recorded in the manifest."""
        raise NotImplementedError


def register(cls: type[Stage]) -> type[Stage]:
    STAGES[cls.name] = cls()
    return cls
