"""The multi-process training path (accelerate launch → TRL in each rank) with 2 gloo CPU
processes: the same frozen-config path a DeepSpeed GPU run takes."""
import json

import pytest

pytestmark = pytest.mark.slow


def test_two_process_sft_through_accelerate(rk):
    rk("debug=tiny", "trainer=sft_cpu_2proc", "pipeline=[train]")
    train = next((rk.outputs / "artifacts" / "train").iterdir())
    log = (train / "train.log").read_text()
    assert "rank 0/2" in log and "rank 1/2" in log
    history = json.loads((train / "train_log.json").read_text())
    assert any("loss" in h for h in history)
    assert (train / "model" / "model.safetensors").exists()
