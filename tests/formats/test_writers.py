"""Every format written, then loaded back with its consumer's own loader where it installs here:
HF ``datasets`` (json / parquet builders), TRL's dataset utilities and trainers, pyarrow schemas.
LLaMA-Factory and verl are not installable in this environment: their files are checked against
the documented layouts (dataset_info.json keys, parquet column types)."""
from __future__ import annotations

import dataclasses
import math
import json
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from datasets import load_dataset

from reasonkit.formats.chat import split_think, to_messages
from reasonkit.formats.config import FormatConfig
from reasonkit.formats.writers import write
from reasonkit.selection.config import SelectionConfig
from reasonkit.selection.strategies import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "selection"))
import _tiny  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def samples():
    out = []
    for p in range(3):
        for k in range(4):
            resp = f"<think>reason {p}.{k} carefully</think>\n\nThe answer is {4 if k % 2 == 0 else 5}."
            out.append({"id": f"p{p}_{k}", "problem_id": f"p{p}", "k": k, "prompt": f"What is {p} + 4 - {p}?",
                        "answer": "4", "response": resp, "model": "t", "sampling": {}, "seed": k,
                        "correct": k % 2 == 0, "n_completion_tokens": 10 + 5 * k})
    return out


def fmt(name, **kw):
    return FormatConfig(name=name, **kw)


def load_parts(out: Path, sub: str = ""):
    files = sorted(str(p) for p in (out / sub).glob("part-*.jsonl"))
    assert files, f"no shards in {out / sub}"
    return load_dataset("json", data_files=files, split="train")


def test_split_think_variants():
    assert split_think("<think>a b</think>\n\nanswer") == ("a b", "answer")
    assert split_think("a b</think> answer") == ("a b", "answer")  # opening tag in the template
    assert split_think("no reasoning") == (None, "no reasoning")
    assert to_messages(samples()[0], "strip")["messages"][1]["content"] == "The answer is 4."


@pytest.mark.parametrize("think", ["keep", "strip", "split"])
def test_chat_loads_with_datasets_and_trl_template(tmp_path, think):
    from trl.data_utils import apply_chat_template, is_conversational

    st = write(fmt("chat", think=think, system="Be exact."), samples(), tmp_path)
    ds = load_parts(tmp_path)
    assert st["rows"] == len(ds) == 12
    row = ds[0]
    assert is_conversational(row)
    roles = [m["role"] for m in row["messages"]]
    assert roles == ["system", "user", "assistant"]
    asst = row["messages"][2]
    assert ("<think>" in asst["content"]) == (think == "keep")
    if think == "split":
        assert asst["reasoning_content"] == "reason 0.0 carefully"
    text = apply_chat_template({"messages": row["messages"]}, _tiny.tokenizer(_tiny.CHATML_TEMPLATE))["text"]
    assert "<|im_start|>assistant\nThe answer is 4.<|im_end|>" in text or think == "keep"


def test_sharegpt_and_alpaca_with_llamafactory_dataset_info(tmp_path):
    from trl.data_utils import is_conversational_from_value, maybe_convert_to_chatml

    write(fmt("sharegpt", think="strip", dataset_name="rk", system="S"), samples(), tmp_path / "sg")
    info = json.loads((tmp_path / "sg" / "dataset_info.json").read_text())
    e = info["rk"]
    assert e["formatting"] == "sharegpt" and e["columns"] == {"messages": "conversations", "system": "system"}
    assert e["tags"] == {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"}
    folder = tmp_path / "sg" / e["file_name"]
    assert folder.is_dir() and {p.suffix for p in folder.iterdir()} == {".jsonl"}  # one file type
    ds = load_parts(tmp_path / "sg", e["file_name"])
    assert is_conversational_from_value(ds[0])
    assert maybe_convert_to_chatml(ds[0])["messages"][1] == {"role": "gpt", "content": "The answer is 4."}
    assert ds[0]["system"] == "S"

    write(fmt("alpaca", dataset_name="rk"), samples(), tmp_path / "al")
    e = json.loads((tmp_path / "al" / "dataset_info.json").read_text())["rk"]
    assert e["formatting"] == "alpaca"
    assert e["columns"] == {"prompt": "instruction", "query": "input", "response": "output"}
    ds = load_parts(tmp_path / "al", e["file_name"])
    assert set(ds.column_names) >= {"instruction", "input", "output"} and len(ds) == 12


def test_alpaca_refuses_think_split(tmp_path):
    with pytest.raises(ValueError, match="think=split needs a message format"):
        write(fmt("alpaca", think="split"), samples(), tmp_path)


@pytest.mark.parametrize("conversational", [True, False])
def test_trl_prompt_completion(tmp_path, conversational):
    from trl.data_utils import apply_chat_template, is_conversational

    write(fmt("trl_prompt_completion", conversational=conversational), samples(), tmp_path)
    ds = load_parts(tmp_path)
    assert is_conversational(ds[0]) == conversational
    if conversational:
        r = apply_chat_template({"prompt": ds[0]["prompt"], "completion": ds[0]["completion"]},
                                _tiny.tokenizer(_tiny.CHATML_TEMPLATE))
        assert r["prompt"].endswith("<|im_start|>assistant\n")
        assert r["completion"].startswith("<think>reason 0.0")
    else:
        assert isinstance(ds[0]["prompt"], str) and isinstance(ds[0]["completion"], str)


def pairs():
    stats: dict = {}
    return list(select(SelectionConfig(strategy="pairs", pairs=["short_long", "silc"]), samples(), stats))


def test_trl_dpo_rows_from_selected_pairs(tmp_path):
    from trl.data_utils import apply_chat_template, is_conversational

    rows = pairs()
    assert rows
    write(fmt("trl_dpo"), rows, tmp_path)
    ds = load_parts(tmp_path)
    assert len(ds) == len(rows) and is_conversational(ds[0])
    r = apply_chat_template({k: ds[0][k] for k in ("prompt", "chosen", "rejected")},
                            _tiny.tokenizer(_tiny.CHATML_TEMPLATE))
    assert set(r) == {"prompt", "chosen", "rejected"} and r["chosen"] != r["rejected"]


def test_trl_dpo_needs_pairs(tmp_path):
    with pytest.raises(ValueError, match="field 'chosen': missing"):
        write(fmt("trl_dpo"), samples(), tmp_path)


@pytest.mark.slow
def test_dpo_rows_train_one_step_with_trl(tmp_path):
    """The DPO rows go through TRL's own DPOTrainer (tokenisation, collation, one step)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    write(fmt("trl_dpo"), pairs(), tmp_path / "d")
    ds = load_parts(tmp_path / "d").select_columns(["prompt", "chosen", "rejected"])
    model_dir = _tiny.save_folder(tmp_path / "m", template=_tiny.CHATML_TEMPLATE)  # TRL loads the ref model by path
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    args = DPOConfig(output_dir=str(tmp_path / "o"), max_steps=1, per_device_train_batch_size=2,
                     use_cpu=True, bf16=False, gradient_checkpointing=False, report_to=[],
                     logging_steps=1, save_strategy="no")
    tr = DPOTrainer(model=model, args=args, train_dataset=ds, processing_class=tok)
    out = tr.train()
    assert out.global_step == 1 and math.isfinite(out.training_loss)


def test_verl_parquet_schema(tmp_path):
    st = write(fmt("verl", data_source="gsm8k", ability="math"), samples(), tmp_path)
    t = pq.read_table(tmp_path / "train.parquet")
    assert t.column_names == ["data_source", "prompt", "ability", "reward_model", "extra_info"]
    sch = t.schema
    assert str(sch.field("prompt").type) == "list<element: struct<role: string, content: string>>"
    assert {f.name for f in sch.field("reward_model").type} == {"style", "ground_truth"}
    assert t.num_rows == st["rows"] == 12
    row = t.slice(0, 1).to_pylist()[0]
    assert row["data_source"] == "gsm8k" and row["ability"] == "math"
    assert row["reward_model"] == {"style": "rule", "ground_truth": "4"}
    assert row["prompt"] == [{"role": "user", "content": "What is 0 + 4 - 0?"}]
    assert row["extra_info"]["index"] == 0 and row["extra_info"]["sample_id"] == "p0_0"
    ds = load_dataset("parquet", data_files=str(tmp_path / "train.parquet"), split="train")
    assert ds[3]["reward_model"]["ground_truth"] == "4"


def test_critique_cft_rows_and_parquet(tmp_path):
    st = write(fmt("critique", max_per_problem=3, think="strip"), samples(), tmp_path)
    assert st["rows"] == 9 and st["dropped_over_max_per_problem"] == 3
    assert st["targets"] == {"right": 6, "wrong": 3}
    ds = load_parts(tmp_path)
    r = ds[1]
    assert r["target"] == "wrong" and r["candidate"] == "The answer is 5."
    assert r["question"] == "What is 0 + 4 - 0?"
    assert r["messages"][0]["content"].startswith(r["instruction"])
    assert "Candidate solution:\nThe answer is 5." in r["messages"][0]["content"]
    assert r["messages"][1] == {"role": "assistant", "content": "wrong"}
    t = pq.read_table(tmp_path / "train.parquet").to_pylist()
    assert {x["ability"] for x in t} == {"critique"}
    assert [x["reward_model"]["ground_truth"] for x in t[:3]] == ["right", "wrong", "right"]


def test_sft_split_files(tmp_path):
    st = write(fmt("sft_split"), samples(), tmp_path)
    assert (st["sft_all"], st["sft_correct"], st["rows"]) == (12, 6, 6)
    all_ds = load_dataset("json", data_files=str(tmp_path / "sft_all.jsonl"), split="train")
    assert sum(all_ds["is_correct"]) == 6 and len(all_ds) == 12
    right = load_dataset("json", data_files=str(tmp_path / "sft_correct.jsonl"), split="train")
    assert all(right["is_correct"]) and len(right) == 6
    assert len(load_parts(tmp_path)) == 6
    st = write(fmt("sft_split", train_on="all"), samples(), tmp_path / "all")
    assert st["rows"] == 12


def test_unknown_format_and_think(tmp_path):
    with pytest.raises(ValueError, match="format.name"):
        write(fmt("jsonl"), samples(), tmp_path)
    with pytest.raises(ValueError, match="format.think"):
        write(fmt("chat", think="maybe"), samples(), tmp_path)


def test_every_format_option_writes(tmp_path):
    import yaml

    conf = ROOT / "conf" / "format"
    names = sorted(p.stem for p in conf.glob("*.yaml"))
    assert len(names) >= 10
    for name in names:
        opts = yaml.safe_load((conf / f"{name}.yaml").read_text())
        cfg = dataclasses.replace(FormatConfig(), **opts)
        rows = pairs() if cfg.name == "trl_dpo" else samples()
        st = write(cfg, rows, tmp_path / name)
        assert st["rows"] > 0, name
