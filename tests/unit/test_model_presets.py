"""Every conf/model preset loads through the schema, pins (or says it cannot pin) its revision,
and its engine defaults and recommended sampling reach the places that use them: the kwargs the
real vLLM backend hands to ``vllm.LLM`` (built here with ``vllm.LLM`` replaced by a recorder, so no
engine starts), ``vllm serve`` flags, and eval's per-cell sampling and prompt."""
from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from reasonkit.config import CONF_DIR, register
from reasonkit.models import load as models
from reasonkit.models.config import CHAT_FORMATS, ModelConfig

register()
PRESETS = sorted(p.stem for p in (CONF_DIR / "model").glob("*.yaml"))
HUB = [p for p in PRESETS if "hf_id:" in (CONF_DIR / "model" / f"{p}.yaml").read_text()]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "benchmarks"
SHA = re.compile(r"[0-9a-f]{40}")
# the models the source workflows use (issue 13, item 5): each must have a preset
WORKFLOW_MODELS = (
    "Qwen/Qwen2.5-Math-7B", "Qwen/Qwen2.5-1.5B-Instruct", "Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-14B-Instruct",
    "Qwen/Qwen2.5-32B-Instruct", "Qwen/Qwen2.5-72B-Instruct", "Qwen/QwQ-32B", "Qwen/QwQ-32B-Preview",
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B", "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", "Qwen/Qwen3-4B-Base",
    "openai/gpt-oss-20b", "openai/gpt-oss-120b", "meta-llama/Meta-Llama-3-8B-Instruct")


def _compose(*overrides: str):
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        return compose("config", overrides=list(overrides))


def _preset(name: str, *extra: str):
    over = [f"model@teacher={name}"] + (["teacher.path=/tmp"] if name == "local" else [])
    return _compose(*over, *extra)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_through_the_schema(name):
    cfg = _preset(name)
    m = OmegaConf.to_object(cfg.teacher)
    assert isinstance(m, ModelConfig) and m.name not in ("???", "")
    assert sum(bool(s) for s in (m.builtin, m.path, m.hf_id)) == 1
    assert m.chat_format is None or m.chat_format in CHAT_FORMATS
    if m.hf_id:  # a hub preset states everything the issue asks for
        assert m.context_length and m.context_length >= 2048
        assert m.tensor_parallel_size and m.tensor_parallel_size >= 1
        assert m.chat_format in CHAT_FORMATS
        assert m.revision
        # a moving revision must say why it is unpinned, in the YAML itself
        text = (CONF_DIR / "model" / f"{name}.yaml").read_text()
        assert SHA.fullmatch(m.revision) or "UNPINNED" in text, f"{name}: revision {m.revision} neither pinned nor explained"
        if SHA.fullmatch(m.revision):
            assert m.revision in text.split("revision:")[0], f"{name}: pinned sha without its source in a comment"
        if m.chat_format == "none":  # a base model is asked raw, not through a chat template it was not tuned on
            from reasonkit.prompts import load_prompt

            assert m.prompt and load_prompt(m.prompt).raw


def test_every_workflow_model_has_a_preset():
    ids = {OmegaConf.to_object(_preset(p).teacher).hf_id for p in HUB}
    assert not set(WORKFLOW_MODELS) - ids


@pytest.mark.parametrize("name", HUB)
def test_recommended_sampling_is_a_vllm_sampling_params_set(name):
    from vllm import SamplingParams

    m = _preset(name).teacher
    SamplingParams(**OmegaConf.to_container(m.sampling), max_tokens=8)  # an unknown field raises TypeError


class _RecordingLLM:
    """Stands in for vllm.LLM: records the kwargs the backend builds, starts nothing."""

    last: dict = {}

    def __init__(self, **kwargs):
        type(self).last = kwargs

    def get_tokenizer(self):
        return None


@pytest.mark.parametrize("name", PRESETS)
def test_preset_composes_with_sampler_vllm_into_llm_kwargs(name, monkeypatch):
    import vllm

    from reasonkit.engines import vllm as vllm_backend
    from reasonkit.engines.common import cpu_env

    for k, v in cpu_env().items():  # the backend sets these on CPU; restore them after the test
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(vllm, "LLM", _RecordingLLM)
    cfg = _preset(name, "sampler=vllm")
    m = cfg.teacher
    from reasonkit.engines import build_engine

    # what every stage calls (generate, judge, transform, eval): the preset fills the engine settings
    engine = build_engine(cfg.sampler, "/some/model", revision=m.revision, model=m)
    assert "max_model_len" not in cfg.sampler.engine  # the run's config is left as it was
    kw = _RecordingLLM.last
    assert kw == engine.engine_kwargs and kw["model"] == "/some/model"
    if m.context_length:
        assert kw["max_model_len"] == m.context_length
    else:
        assert "max_model_len" not in kw
    if m.tensor_parallel_size:
        assert kw["tensor_parallel_size"] == m.tensor_parallel_size
    if m.revision:
        assert kw["revision"] == kw["tokenizer_revision"] == m.revision
    vllm_backend._LIVE_ENGINES -= 1  # the recorder has no engine core to shut down

    # an explicit sampler.engine setting wins over the model's default
    cfg = _preset(name, "sampler=vllm", "++sampler.engine.max_model_len=1024", "++sampler.engine.tensor_parallel_size=8")
    s = models.sampler_for(cfg.sampler, cfg.teacher)
    assert s.engine.max_model_len == 1024 and s.engine.tensor_parallel_size == 8


@pytest.mark.parametrize("name", HUB)
def test_preset_fills_vllm_serve_flags_unless_given(name):
    cfg = _preset(name, "sampler=openai")
    m = cfg.teacher
    args = models.sampler_for(cfg.sampler, m).server.args
    assert args.max_model_len == m.context_length and args.tensor_parallel_size == m.tensor_parallel_size
    args = models.sampler_for(_preset(name, "sampler=openai", "++sampler.server.args.max-model-len=2048").sampler,
                              m).server.args
    assert args["max-model-len"] == 2048 and "max_model_len" not in args
    hf = models.sampler_for(_preset(name, "sampler=hf").sampler, m)
    assert OmegaConf.to_container(hf) == OmegaConf.to_container(_preset(name, "sampler=hf").sampler, resolve=True)


def test_unpinned_hub_revision_warns_once(caplog, monkeypatch):
    monkeypatch.setattr(models, "_WARNED_UNPINNED", set())
    with caplog.at_level(logging.WARNING, logger="reasonkit.models.load"):
        for _ in range(3):
            models.resolve(ModelConfig(name="x", hf_id="Org/X", revision="main"), "/tmp")
        models.resolve(ModelConfig(name="y", hf_id="Org/Y", revision="a" * 40), "/tmp")
        models.resolve(ModelConfig(name="z", hf_id="Org/Z"), "/tmp")
    msgs = [r.getMessage() for r in caplog.records]
    assert sum("Org/X" in t and "unpinned" in t for t in msgs) == 1
    assert not any("Org/Y" in t for t in msgs)
    assert sum("Org/Z" in t for t in msgs) == 1


@pytest.mark.parametrize("name", HUB)
def test_eval_applies_the_models_sampling_and_prompt(name):
    from reasonkit.evaluation import grid

    cfg = _compose("debug=tiny", f"eval.models=[{name}]", "eval.benchmarks=[math500]")
    m = grid.resolve_models(cfg, plan=True)[0]
    s0 = grid.spec(cfg, "math500")
    s = grid.for_model(cfg, s0, m)
    rec = OmegaConf.to_container(_preset(name).teacher.sampling)
    assert s.sampling == {**s0.sampling, **rec}
    assert s.prompt == (m.mcfg.prompt or s0.prompt)
    # a template that opens <think> in the prompt: the eval judge reads the response that way
    assert grid.judge_config(cfg, s).extract.opened_think is bool(m.mcfg.opened_think)
    # what a run sets explicitly wins: per-benchmark overrides, then run-wide eval.sampling
    cfg = _compose("debug=tiny", f"eval.models=[{name}]", "eval.benchmarks=[math500]",
                   "++eval.overrides.math500.sampling.top_p=0.5", "eval.sampling.temperature=0.25", "eval.prompt=plain")
    s = grid.for_model(cfg, grid.spec(cfg, "math500"), grid.resolve_models(cfg, plan=True)[0])
    assert s.sampling["top_p"] == 0.5 and s.sampling["temperature"] == 0.25 and s.prompt == "plain"
    cfg = _compose("debug=tiny", f"eval.models=[{name}]", "eval.benchmarks=[math500]", "eval.model_sampling=false")
    assert grid.for_model(cfg, grid.spec(cfg, "math500"), grid.resolve_models(cfg, plan=True)[0]).sampling == s0.sampling


def test_models_sampling_enters_the_cell_key():
    from reasonkit.evaluation import grid

    def key(*o):
        cfg = _compose("debug=tiny", "eval.models=[qwen2.5_7b_instruct]", "eval.benchmarks=[math500]", "eval.source=local",
                       f"paths.benchmarks={FIXTURES}", *o)
        m = grid.resolve_models(cfg, plan=True)[0]
        return grid.digest(grid.cell_key(cfg, m, grid.spec(cfg, "math500")))

    assert key() != key("eval.model_sampling=false")
