"""format.mix_files: external JSONL rows appended to the selected ones, through the same writer."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from reasonkit.formats import mix
from reasonkit.formats.config import FormatConfig
from reasonkit.formats.stage import FormatStage
from reasonkit.formats.writers import write


def _ext(tmp_path: Path, rows: list) -> Path:
    p = tmp_path / "ext_sft.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return p


def _cfg(**kw):
    return OmegaConf.structured(FormatConfig(**kw))


def test_external_rows_follow_selected_ones(tmp_path):
    p = _ext(tmp_path, [{"question": "What is 1+1?", "solution": "2", "final": 2}] * 2)
    cfg = _cfg(name="chat", mix_files=[str(p)], mix_fields={"prompt": "question", "response": "solution",
                                                             "answer": "final"})
    mix.check(cfg)
    sel = [{"id": "a_0", "problem_id": "a", "prompt": "q", "response": "r", "correct": True, "answer": "1"}]
    out = tmp_path / "out"
    stats = write(cfg, [*sel, *mix.records(cfg)], out)
    rows = [json.loads(line) for line in open(out / "part-00000.jsonl")]
    assert stats["rows"] == 3 and [r["id"] for r in rows] == ["a_0", "mix-ext_sft-1", "mix-ext_sft-2"]
    assert rows[1]["messages"][-1]["content"] == "2"


def test_checksum_enters_the_format_identity(tmp_path):
    p = _ext(tmp_path, [{"prompt": "p", "response": "r"}])
    cfg = OmegaConf.create({"format": OmegaConf.structured(FormatConfig(name="chat", mix_files=[str(p)]))})
    before = FormatStage().keys(cfg)["mix_data"]
    p.write_text(json.dumps({"prompt": "p", "response": "changed"}) + "\n")
    assert FormatStage().keys(cfg)["mix_data"] != before


@pytest.mark.parametrize("rows,kw,msg", [
    ([{"prompt": "p"}], {}, r"ext_sft.jsonl:1: field 'response' \(format.mix_fields.response\)"),
    (["x"], {}, r"ext_sft.jsonl:1: expected a JSON object"),
    ([{"prompt": "p", "response": "r"}], {"name": "trl_dpo"}, "format=trl_dpo cannot take"),
])
def test_bad_mix_is_refused_in_one_line(tmp_path, rows, kw, msg):
    p = _ext(tmp_path, rows)
    with pytest.raises(ValueError, match=msg):
        mix.check(_cfg(mix_files=[str(p)], **kw))
