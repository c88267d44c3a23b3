"""CFT parquet rows carry what CriticCoT's verl rows carry: the critiqued solution, the question's
reference answer, the generator that wrote the solution, and a configurable data_source."""
from __future__ import annotations

import pyarrow.parquet as pq
from datasets import load_dataset

from reasonkit.formats.config import FormatConfig
from reasonkit.formats.writers import write


def _samples():
    # two generators, right and wrong solutions of one question
    return [{"id": f"p0_{k}", "problem_id": "p0", "prompt": "What is 2 + 2?", "answer": "4",
             "response": f"<think>hm {k}</think>The answer is {4 if k % 2 == 0 else 5}.",
             "model": ["qwen-math-7b", "qwen3-4b-base"][k // 2], "correct": k % 2 == 0} for k in range(4)]


def test_critique_extra_info_and_data_source(tmp_path):
    write(FormatConfig(name="critique", think="strip", data_source="cft_webinstruct"), _samples(), tmp_path)
    path = tmp_path / "train.parquet"
    rows = pq.read_table(path).to_pylist()
    assert [r["data_source"] for r in rows] == ["cft_webinstruct"] * 4
    info = [r["extra_info"] for r in rows]
    assert [i["model"] for i in info] == ["qwen-math-7b", "qwen-math-7b", "qwen3-4b-base", "qwen3-4b-base"]
    assert [i["solution"] for i in info] == ["The answer is 4.", "The answer is 5."] * 2
    assert {i["answer"] for i in info} == {"4"}
    assert [r["reward_model"]["ground_truth"] for r in rows] == ["right", "wrong"] * 2
    # verl reads it with datasets' parquet builder: the nested fields survive
    ds = load_dataset("parquet", data_files=str(path), split="train")
    assert ds[1]["extra_info"]["solution"] == "The answer is 5." and ds[1]["extra_info"]["model"] == "qwen-math-7b"


def test_verl_rows_keep_model_and_answer(tmp_path):
    write(FormatConfig(name="verl"), _samples(), tmp_path)
    info = [r["extra_info"] for r in pq.read_table(tmp_path / "train.parquet").to_pylist()]
    assert [i["model"] for i in info][::2] == ["qwen-math-7b", "qwen3-4b-base"]
    assert {i["answer"] for i in info} == {"4"} and {i["solution"] for i in info} == {None}
