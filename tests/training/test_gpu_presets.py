"""The GPU trainer presets compose through Hydra and what they set reaches TRL's config and the
model loader unchanged (checked on CPU; the speed itself is benchmarks/train_RESULTS.md)."""
from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from reasonkit.config import CONF_DIR, register
from reasonkit.training import entry
from reasonkit.training.stage import LAUNCHERS, TrainStage, command, frozen_spec

register()


def _compose(*overrides: str):
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        # TRL refuses bf16 without a GPU; every other key is checked as the preset sets it
        return compose(config_name="config", overrides=[*overrides, "trainer.args.bf16=false"])


def _trl_config(spec):
    Config, _ = entry.trl_classes(spec["kind"])
    return Config(output_dir="/tmp/reasonkit-preset-test", **spec["args"])


def test_sft_gpu_settings_reach_trl_and_the_model_loader(tmp_path, monkeypatch):
    cfg = _compose("trainer=sft_gpu")
    spec = frozen_spec(cfg, tmp_path, ["rows.jsonl"])
    args = _trl_config(spec)
    assert (args.packing, args.packing_strategy, args.max_length, args.pad_to_multiple_of) == (True, "bfd", 16384, 16384)
    assert args.gradient_checkpointing is False and args.use_liger_kernel is True
    assert args.per_device_train_batch_size == 1
    assert spec["model_kwargs"] == {"attn_implementation": "flex_attention"}
    assert spec["compile_layers"] is False
    seen = {}

    class _Auto:
        @staticmethod
        def from_pretrained(path, **kw):
            seen.update(kw, path=path)
            return "model"

    import transformers

    monkeypatch.setattr(transformers, "AutoModelForCausalLM", _Auto)
    assert entry.load_model(spec) == "model"
    assert seen["attn_implementation"] == "flex_attention" and seen["path"] == spec["model_path"]


def test_dpo_gpu_settings_reach_trl(tmp_path):
    spec = frozen_spec(_compose("trainer=dpo_gpu"), tmp_path, ["rows.jsonl"])
    args = _trl_config(spec)
    assert type(args).__name__ == "DPOConfig"
    assert args.gradient_checkpointing is False and args.use_liger_kernel is True
    assert args.per_device_train_batch_size == 8
    assert args.train_sampling_strategy == "group_by_length"
    assert spec["pack_pairs"] is False and spec["pack_multiple"] == 1024


def test_pair_code_version_enters_the_dpo_key_when_pairs_are_grouped_or_packed():
    def keys(*o):
        return TrainStage().keys(_compose(*o))

    assert "pack_version" in keys("trainer=dpo_gpu")  # grouped by length: add_pair_lengths decides batches
    assert "pack_version" not in keys("trainer=dpo_gpu", "trainer.args.train_sampling_strategy=random")
    assert "pack_version" in keys("trainer=dpo_gpu", "trainer.args.train_sampling_strategy=random",
                                  "trainer.pack_pairs=true")
    assert "pack_version" not in keys("trainer=sft_gpu")


def test_pack_multiple_below_one_is_refused():
    cfg = _compose("trainer=dpo_gpu", "trainer.pack_pairs=true", "trainer.pack_multiple=0", "format=trl_dpo")
    with pytest.raises(ValueError, match="trainer.pack_multiple: expected a whole number of tokens ≥ 1, got 0"):
        TrainStage().validate(cfg)


def test_length_grouping_is_refused_for_cpo_rows():
    cfg = _compose("trainer=simpo_gpu", "+trainer.args.train_sampling_strategy=group_by_length", "format=trl_dpo")
    with pytest.raises(ValueError, match="kind=cpo rows have no length column"):
        TrainStage().validate(cfg)


@pytest.mark.parametrize("kind", ["sft", "dpo"])
@pytest.mark.parametrize("stage", [2, 3])
def test_zero_presets_inherit_the_gpu_preset_and_launch_deepspeed(tmp_path, stage, kind):
    cfg = _compose(f"trainer={kind}_gpu_zero{stage}")
    base = frozen_spec(_compose(f"trainer={kind}_gpu"), tmp_path, [])
    assert frozen_spec(cfg, tmp_path, [])["args"] == base["args"]
    cmd = command(cfg, tmp_path / "f.yaml")
    cfg_file = Path(cmd[cmd.index("--config_file") + 1])
    assert cfg_file == LAUNCHERS / f"accelerate/deepspeed_zero{stage}.yaml" and cfg_file.exists()
    assert cmd[cmd.index("--num_processes") + 1] == "2"
    assert f"zero{stage}.json" in cfg_file.read_text()


def test_compile_layers_changes_the_train_artifact_key():
    plain = TrainStage().keys(_compose("trainer=sft_gpu"))
    compiled = TrainStage().keys(_compose("trainer=sft_gpu", "trainer.compile_layers=true"))
    assert plain != compiled and "compile_version" in compiled and "compile_version" not in plain
