"""The eval grid's parts: which benchmark specs, which models, which judge, and each cell's identity.

A cell is (model, benchmark, eval settings). Its key holds every config value the cell's work
reads and the versions of the code it runs, so a cell is reused exactly when its result would be
the same, and a new model, checkpoint or benchmark computes only its own cells.
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from reasonkit.data import benchmarks as bm
from reasonkit.models import load as models
from reasonkit.models.config import ModelConfig

# Bump when a cell's computation changes for the same key (sampling loop, metrics, record layout).
CELL_VERSION = "1"
# Judges a benchmark may name; others (vote, judge_vote, critique) only through eval.judge.
BENCHMARK_JUDGES = ("math", "choice", "code")
# Sampler fields that only split or batch the work (allow-list: they do not change an output).
# Sampler fields eval does not read at all (eval has its own n, seed and sampling).
SAMPLER_GENERATION_ONLY = ("n", "seed", "sampling")
TRAIN_ROWS = ("trained", "checkpoints")


def _plain(x: Any) -> Any:
    if OmegaConf.is_config(x):
        return OmegaConf.to_container(x, resolve=True)
    if dataclasses.is_dataclass(x):
        return dataclasses.asdict(x)
    return x


# ----------------------------------------------------------------------------- benchmarks

def spec(cfg: DictConfig, name: str) -> bm.BenchmarkConfig:
    """The effective spec of one benchmark: its YAML, then ``eval.overrides.<name>`` (a preset's
    per-benchmark settings), then the run-wide ``eval.n``/``ks``/``limit``/``prompt``/``source``/
    ``sampling``, which apply to every benchmark (``eval.n=1`` makes any grid quick)."""
    e = cfg.eval
    deltas: dict[str, Any] = {}
    for k in ("n", "ks", "limit", "prompt", "source"):
        if e[k] is not None:
            deltas[k] = _plain(e[k])
    if name == "dataset":
        base: Any = {"name": cfg.dataset.name, "source": "dataset", "hub": {"split": e.split}, "kind": "math",
                     "prompt": "dataset_instruction", "judge": "math", "sampling": {}}
        deltas.pop("source", None)
    else:
        base = name
    per = _plain(e.overrides.get(name, {})) if e.overrides and name in e.overrides else {}
    s = bm.load_spec(base, per)
    s = bm.load_spec(dataclasses.asdict(s), deltas)
    s.sampling = {**s.sampling, **{k: v for k, v in _plain(e.sampling).items() if v is not None}}
    return s


def for_model(cfg: DictConfig, s: bm.BenchmarkConfig, m: EvalModel) -> bm.BenchmarkConfig:
    """The benchmark as this model is asked it.

    Prompt: ``eval.prompt`` (run-wide) > ``eval.model_prompts.<entry>`` > the model config's
    ``prompt`` (e.g. r1_zero for a base model) > the benchmark's own (with its overrides).
    Sampling: the model card's recommended sampling (``model.sampling``) goes over the benchmark
    YAML's, and under what a run sets explicitly (``eval.overrides.<benchmark>.sampling``, then
    non-null ``eval.sampling``); ``eval.model_sampling=false`` skips it. A model whose template
    opens ``<think>`` (``model.opened_think``) is judged with ``extract.opened_think``."""
    p = cfg.eval.model_prompts.get(m.entry) if cfg.eval.model_prompts else None
    if p is None:
        p = getattr(m.mcfg, "prompt", None)
    if p is not None and cfg.eval.prompt is None:
        s = dataclasses.replace(s, prompt=str(p))
    if getattr(m.mcfg, "opened_think", False):  # the prompt opens <think>: the response closes it
        ja = _plain(s.judge_args) or {}
        s = dataclasses.replace(s, judge_args={**ja, "extract": {**(ja.get("extract") or {}), "opened_think": True}})
    rec = _plain(getattr(m.mcfg, "sampling", None) or {})
    if rec and cfg.eval.get("model_sampling", True):
        key = "dataset" if s.source == "dataset" else s.name  # eval.overrides is keyed by eval.benchmarks' names
        per = _plain(cfg.eval.overrides.get(key, {})) if cfg.eval.overrides and key in cfg.eval.overrides else {}
        run = {k: v for k, v in _plain(cfg.eval.sampling).items() if v is not None}
        s = dataclasses.replace(s, sampling={**s.sampling, **rec, **((per or {}).get("sampling") or {}), **run})
    return s


def template_vars(cfg: DictConfig, s: bm.BenchmarkConfig) -> dict[str, Any]:
    return {"instruction": cfg.dataset.instruction} if s.source == "dataset" else {}


@lru_cache(maxsize=64)
def _fingerprint(spec_json: str, root: str, dataset_json: str) -> dict[str, Any]:
    s = bm.load_spec(json.loads(spec_json))
    ds = OmegaConf.create(json.loads(dataset_json)) if dataset_json != "null" else None
    tv = {"instruction": ds.instruction} if s.source == "dataset" else {}
    return bm.fingerprint(s, root=root, dataset=ds, template_vars=tv)


def benchmark_identity(cfg: DictConfig, s: bm.BenchmarkConfig) -> dict[str, Any]:
    """The spec, the rows as loaded (digest), the prompt template's text, and, for the run's own
    dataset, its config (whose instruction and sizes shape the problems)."""
    from reasonkit.prompts import identity

    dataset = _plain(cfg.dataset) if s.source == "dataset" else None
    data = _fingerprint(json.dumps(dataclasses.asdict(s), sort_keys=True), str(cfg.paths.benchmarks),
                        json.dumps(dataset, sort_keys=True))
    return {"spec": dataclasses.asdict(s), "data": data, "prompt": identity(s.prompt), "dataset": dataset,
            "loader": bm.BENCHMARK_VERSION}


# ----------------------------------------------------------------------------- judge

def judge_name(cfg: DictConfig, s: bm.BenchmarkConfig) -> str:
    return cfg.eval.judge or s.judge


def judge_config(cfg: DictConfig, s: bm.BenchmarkConfig):
    """conf/judge/<name>.yaml with the benchmark's then the run's deltas: the eval judge never
    reads the run's ``judge`` group (that one labels training data)."""
    from reasonkit.config import CONF_DIR

    name = judge_name(cfg, s)
    path = CONF_DIR / "judge" / f"{name}.yaml"
    if not path.exists():
        raise ValueError(f"eval.judge: unknown judge {name!r} (no {path})")
    layers = [_plain(s.judge_args) if not cfg.eval.judge else {}, _plain(cfg.eval.judge_args)]
    return copy.deepcopy(_judge_config(name, str(path), path.stat().st_mtime_ns, json.dumps(layers, sort_keys=True)))


@lru_cache(maxsize=256)
def _judge_config(name: str, path: str, mtime_ns: int, layers_json: str):
    """Cached: every cell asks for its judge config several times (key, validate, run), and a
    structured merge costs tens of milliseconds. Deltas merge deeply (a model's extract setting
    and the run's other extract settings both hold)."""
    from reasonkit.judging import to_config

    return to_config(OmegaConf.merge(OmegaConf.load(path), *json.loads(layers_json), {"name": name}))


def code_versions(jcfg: Any) -> dict[str, Any]:
    """Versions of the judging code a cell runs: the shared ``code_versions`` when the judging
    package has it, else the judge class's own version string (it embeds EXTRACT_VERSION)."""
    try:
        from reasonkit.judging import code_versions as shared  # type: ignore[attr-defined]
    except ImportError:
        shared = None
    if shared is not None:
        try:
            return dict(shared(jcfg))
        except (TypeError, AttributeError, KeyError):  # it wants the root config: give it the eval judge's
            return dict(shared(OmegaConf.create({"judge": dataclasses.asdict(jcfg)})))
    import importlib

    from reasonkit.judging.extract import EXTRACT_VERSION

    mod, cls = {"math": ("math_judge", "MathJudge"), "vote": ("vote", "VoteJudge"),
                "judge_vote": ("vote", "JudgeVoteJudge"), "code": ("code_judge", "CodeJudge"),
                "choice": ("choice", "ChoiceJudge"), "critique": ("choice", "CritiqueJudge"),
                "llm": ("llm", "LLMJudge")}[jcfg.name]
    return {"judge": getattr(importlib.import_module(f"reasonkit.judging.{mod}"), cls).version,
            "extract": EXTRACT_VERSION}


# ----------------------------------------------------------------------------- models

@dataclass
class EvalModel:
    """One row of the grid. ``path`` is None until the train artifact exists (trained rows)."""

    row: str
    name: str
    mcfg: Any  # ModelConfig-like: chat_template, system_prompt, revision
    ident: dict[str, Any]
    path: str | None = None
    tokenizer_path: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    entry: str = ""  # the eval.models entry it came from (eval.model_prompts is keyed by it)


def _preset(name: str) -> ModelConfig | None:
    from reasonkit.config import CONF_DIR

    p = CONF_DIR / "model" / f"{name}.yaml"
    if not p.exists():
        return None
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(ModelConfig), OmegaConf.load(p)))  # type: ignore[return-value]


def _step(p: Path) -> int:
    m = re.search(r"(\d+)$", p.name)
    return int(m.group(1)) if m else -1


def checkpoints_in(folder: Path) -> list[Path]:
    return sorted((p for p in folder.glob("checkpoint-*") if p.is_dir() and (p / "config.json").exists()), key=_step)


def _folder_rows(entry: str, folder: Path, base: Any) -> list[EvalModel]:
    rows = []
    for ck in checkpoints_in(folder):
        rows.append(EvalModel(f"{entry}@{ck.name}", f"{folder.name}@{ck.name}", base,
                              {"path": str(ck.absolute()), "weights": models.fingerprint(ModelConfig(name=ck.name, path=str(ck)))},
                              str(ck.absolute()), str(ck.absolute()), {"step": _step(ck)}))
    if (folder / "config.json").exists():
        rows.append(EvalModel(entry, folder.name, base,
                              {"path": str(folder.absolute()), "weights": models.fingerprint(ModelConfig(name=folder.name, path=str(folder)))},
                              str(folder.absolute()), str(folder.absolute())))
    return rows


def resolve_models(cfg: DictConfig, train_dir: Path | None = None, train_hash: str | None = None,
                   plan: bool = False) -> list[EvalModel]:
    """Rows in config order. With ``plan`` (before the train artifact exists) the train rows are
    placeholders whose identity is the train input's hash, which the stage's hash already has."""
    out: list[EvalModel] = []
    for entry in cfg.eval.models:
        start = len(out)
        _add_rows(cfg, entry, out, train_dir, train_hash, plan)
        for r in out[start:]:
            r.entry = entry
    seen: set[str] = set()
    for r in out:
        if r.row in seen:
            raise ValueError(f"eval.models: row {r.row!r} appears twice")
        seen.add(r.row)
    unknown = set(cfg.eval.model_prompts) - set(cfg.eval.models)
    if unknown:
        raise ValueError(f"eval.model_prompts: {sorted(unknown)} not in eval.models {list(cfg.eval.models)}")
    return out


def _add_rows(cfg: DictConfig, entry: str, out: list[EvalModel], train_dir: Path | None, train_hash: str | None,
              plan: bool) -> None:
    if entry in ("teacher", "student"):
        m = cfg[entry]
        out.append(EvalModel(entry, m.name, m, {"role": entry, "cfg": _plain(m), "weights": models.fingerprint(m)}))
    elif entry in TRAIN_ROWS:
        if entry == "trained" and "checkpoints" in cfg.eval.models:
            return  # the checkpoints row set ends with the final model already
        st = cfg.student
        if plan or train_dir is None:
            out.append(EvalModel(entry, f"{st.name}+{cfg.trainer.name}", st,
                                 {"row": entry, "student": _plain(st), "trainer": cfg.trainer.name}))
            return
        name = f"{st.name}+{cfg.trainer.name}"
        base_ident = {"train": train_hash, "student": _plain(st), "trainer": cfg.trainer.name}
        tok_fallback = models.resolve(st, cfg.paths.models)
        if entry == "checkpoints":
            for ck in checkpoints_in(train_dir / "checkpoints"):
                out.append(EvalModel(f"trained@{ck.name}", f"{name}@{ck.name}", st, {**base_ident, "checkpoint": ck.name},
                                     str(ck), str(ck) if (ck / "tokenizer_config.json").exists() else tok_fallback,
                                     {"step": _step(ck)}))
        final = train_dir / "model"
        if not any(r.row == "trained" for r in out):  # "checkpoints" ends with the final model
            out.append(EvalModel("trained", name, st, {**base_ident, "checkpoint": "final"}, str(final),
                                 str(final) if (final / "tokenizer_config.json").exists() else tok_fallback))
    elif (preset := _preset(entry)) is not None:
        out.append(EvalModel(entry, preset.name, preset, {"preset": entry, "cfg": dataclasses.asdict(preset),
                                                          "weights": models.fingerprint(preset)}))
    elif Path(entry).is_dir():
        rows = _folder_rows(entry, Path(entry), ModelConfig(name=Path(entry).name, path=entry))
        if not rows:
            raise ValueError(f"eval.models: {entry}: folder has neither config.json nor checkpoint-*/config.json")
        out.extend(rows)
    elif re.fullmatch(r"[\w.-]+/[\w.-]+", entry):
        m = ModelConfig(name=entry.split("/")[-1], hf_id=entry)
        out.append(EvalModel(entry, m.name, m, {"hf_id": entry}))
    else:
        raise ValueError(f"eval.models: {entry!r}: expected teacher, student, trained, checkpoints, a conf/model "
                         "preset, an existing model folder or a hub id (owner/name)")


def model_path(cfg: DictConfig, m: EvalModel) -> tuple[str, str]:
    """(weights path, tokenizer path) of a row whose path is not yet known (roles, presets, hub)."""
    if m.path:
        return m.path, m.tokenizer_path or m.path
    p = models.resolve(m.mcfg, cfg.paths.models)
    return p, p


# ----------------------------------------------------------------------------- cell identity

def sampler_identity(cfg: DictConfig) -> dict[str, Any]:
    """What generation hashes of the sampler (backend and its version, engine args, chat, think,
    server API…), less what eval sets itself."""
    from reasonkit.generation.samples import sampler_identity as generation_identity

    return {k: v for k, v in generation_identity(cfg.sampler).items() if k not in SAMPLER_GENERATION_ONLY}


def cell_key(cfg: DictConfig, m: EvalModel, s: bm.BenchmarkConfig) -> dict[str, Any]:
    from reasonkit.evaluation import metrics

    s = for_model(cfg, s, m)
    jcfg = judge_config(cfg, s)
    return {"model": m.ident, "benchmark": benchmark_identity(cfg, s),
            "judge": {"cfg": dataclasses.asdict(jcfg), "code": code_versions(jcfg)},
            "sampler": sampler_identity(cfg), "seed": cfg.eval.seed, "bootstrap": cfg.eval.bootstrap,
            "code": {"cell": CELL_VERSION, "metrics": metrics.METRICS_VERSION}}


def digest(key: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:12]


def label(m: EvalModel, s: bm.BenchmarkConfig) -> str:
    return re.sub(r"[^\w.+@=-]+", "_", f"{m.name}-{s.name}")[:120]
