"""Root config schema: every group is a typed node, so a misspelt key fails at composition with
Hydra's message naming the key and the group, before any stage work starts."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore

from reasonkit.data.config import DatasetConfig
from reasonkit.dynamics.config import DynamicsConfig
from reasonkit.engines.config import SamplerConfig
from reasonkit.evaluation.config import EvalConfig
from reasonkit.formats.config import FormatConfig
from reasonkit.judging.config import JudgeConfig
from reasonkit.launch.config import LocalConfig
from reasonkit.models.config import ModelConfig
from reasonkit.pipeline.iteration import IterationConfig
from reasonkit.report.config import ReportConfig
from reasonkit.selection.config import SelectionConfig
from reasonkit.selection.scoring import ScoreConfig
from reasonkit.tracking.config import TrackingConfig
from reasonkit.training.config import TrainerConfig
from reasonkit.transform.config import TransformConfig

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"


@dataclass
class PathsConfig:
    outputs: str = "outputs"
    artifacts: str = "${paths.outputs}/artifacts"
    models: str = "${paths.outputs}/models"
    reports: str = "${paths.outputs}/reports"
    # Local benchmark files (benchmark.local.file is relative to this; eval.source=local).
    benchmarks: str = "${oc.env:REASONKIT_BENCHMARKS,data/benchmarks}"


@dataclass
class DebugConfig:
    name: str = "none"


@dataclass
class RootConfig:
    # A stage name, or "pipeline" to run `pipeline` (and whatever it depends on) in order.
    stage: str = "pipeline"
    pipeline: list[str] = field(default_factory=lambda: ["generate", "judge", "select", "format", "train",
                                                         "eval", "report"])
    # Names the run in reports and groups it in trackers.
    experiment_name: str = "demo"
    teacher: ModelConfig = field(default_factory=ModelConfig)
    student: ModelConfig = field(default_factory=ModelConfig)
    # Generate with several models into one set (each sample keeps its model): entries are
    # teacher / student / a conf/model option / {model: ..., sampler: {deltas}}; empty: the
    # teacher alone. See reasonkit/generation/generators.py.
    generators: list[Any] = field(default_factory=list)
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    judge: JudgeConfig = field(default_factory=JudgeConfig)
    score: ScoreConfig = field(default_factory=ScoreConfig)
    selection: SelectionConfig = field(default_factory=SelectionConfig)
    format: FormatConfig = field(default_factory=FormatConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    debug: DebugConfig = field(default_factory=DebugConfig)
    local: LocalConfig = field(default_factory=LocalConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    dynamics: DynamicsConfig = field(default_factory=DynamicsConfig)
    transform: TransformConfig = field(default_factory=TransformConfig)
    # Expert iteration: rounds of generate → … → train, each from the previous round's model.
    iteration: IterationConfig = field(default_factory=IterationConfig)


def register() -> None:
    ConfigStore.instance().store(name="reasonkit_schema", node=RootConfig)
