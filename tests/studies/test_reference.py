"""sampler.source=reference: the dataset's reference solutions as the samples (a baseline that
trains on them runs the same judge → select → format chain), with no model loaded."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from omegaconf import OmegaConf
from rk_helpers import run_rk

from reasonkit.engines.config import SamplerConfig
from reasonkit.generation.reference import check, reference_samples, solution

GSM8K = Path(__file__).parent / "data" / "gsm8k_train_12.jsonl"  # MIT, see data/README.md


def _problems():
    return [{"id": f"q{i}", "prompt": f"What is {i}+{i}?", "answer": str(2 * i),
             "meta": {"solution": f"{i}+{i} = {2 * i}. #### {2 * i}"}} for i in range(5)]


def test_records_skip_done_and_keep_order():
    out = [r for batch, _ in reference_samples(_problems(), field="solution", batch_problems=2, done={"q1_0"})
           for r in batch]
    assert [r["id"] for r in out] == ["q0_0", "q2_0", "q3_0", "q4_0"]
    assert out[1]["response"] == "2+2 = 4. #### 4" and out[1]["model"] == "reference"


def test_missing_field_is_one_line_naming_it():
    with pytest.raises(ValueError, match=r"problem 'q0': field 'worked' .* this problem has \['answer', 'prompt', 'solution'\]"):
        solution(_problems()[0], "worked")


@pytest.mark.parametrize("kw,msg", [({"source": "reference", "n": 4}, "sampler.n=1"),
                                    ({"source": "oracle"}, "sampler.source")])
def test_bad_sampler_refused(kw, msg):
    with pytest.raises(ValueError, match=msg):
        check(OmegaConf.structured(SamplerConfig(**kw)))


def test_gsm8k_references_judge_correct(tmp_path):
    """Real GSM8K rows: each worked answer, judged against its own `#### n`, is correct."""
    train = tmp_path / "train.jsonl"
    shutil.copy(GSM8K, train)
    shutil.copy(train, tmp_path / "test.jsonl")
    out = tmp_path / "outputs"
    run_rk(out, "experiment=r1_traces/baseline_reference", "dataset=jsonl", f"dataset.files.train={train}",
           f"dataset.files.test={tmp_path / 'test.jsonl'}", "dataset.fields.prompt=question",
           "pipeline=[generate,judge]")
    (gen,) = [d for d in (out / "artifacts" / "generate").iterdir() if d.is_dir()]
    assert gen.name.startswith("reference-jsonl-")
    recs = [json.loads(line) for line in open(gen / "part-00000.jsonl")]
    assert [r["response"] for r in recs] == [json.loads(line)["answer"] for line in open(train)]
    (judge,) = [d for d in (out / "artifacts" / "judge").iterdir() if d.is_dir()]
    metrics = json.loads((judge / "manifest.json").read_text())["metrics"]
    assert metrics["samples"] == 12 and metrics["correct"] == 12
