"""A user's mistake through the real ``reasonkit`` entrypoint: exit status 2, one line per mistake
on stderr (no traceback), and nothing under ``outputs/artifacts`` — refused before any stage works."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from reasonkit.checks import EXIT_USER_ERROR, ConfigError, one_line_errors
from reasonkit.records import RecordError
from rk_helpers import run_rk


def good_lines(n: int, start: int = 0) -> str:
    return "".join(json.dumps({"id": f"p{i}", "prompt": f"What is {i} + 1?", "answer": str(i + 1)}) + "\n"
                   for i in range(start, start + n))


def refused(outputs: Path, *overrides: str) -> list[str]:
    p = run_rk(outputs, *overrides, check=False, timeout=300)
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert p.returncode == EXIT_USER_ERROR, (p.returncode, p.stderr[-3000:])
    assert "Traceback" not in p.stderr + p.stdout and all(ln.startswith("reasonkit: error: ") for ln in lines), p.stderr
    art = outputs / "artifacts"
    assert not art.exists() or not any(art.iterdir()), sorted(art.rglob("*"))  # no partial artifact
    return [ln.removeprefix("reasonkit: error: ") for ln in lines]


def jsonl(*overrides: str) -> list[str]:
    return ["dataset=jsonl", *overrides]


def test_bad_train_file_on_the_default_pipeline(tmp_path):
    train = tmp_path / "train.jsonl"
    train.write_bytes(good_lines(1).encode() + b'{"id": "x", "prompt": "caf\xe9?", "answer": "1"}\n')
    test = tmp_path / "test.jsonl"
    test.write_text(good_lines(2))
    (line,) = refused(tmp_path / "out", *jsonl(f"dataset.files.train={train}", f"dataset.files.test={test}"))
    assert line.startswith(f"{train}:2: invalid UTF-8 at byte offset ")


def test_bad_test_split_is_refused_before_generate_works(tmp_path):
    train = tmp_path / "train.jsonl"
    train.write_text(good_lines(4))
    test = tmp_path / "test.json"
    test.write_text(json.dumps([{"id": "t0", "prompt": "1+1?", "answer": "2"}, {"id": "t1", "prompt": "   ", "answer": "3"}],
                               indent=1))
    (line,) = refused(tmp_path / "out", *jsonl(f"dataset.files.train={train}", f"dataset.files.test={test}"))
    assert line.startswith(f"{test}:7: element 1: field 'prompt': expected a non-empty string")


def test_duplicate_id_names_both_lines(tmp_path):
    train = tmp_path / "train.jsonl"
    train.write_text(good_lines(3) + good_lines(1, start=1))
    (line,) = refused(tmp_path / "out", *jsonl(f"dataset.files.train={train}", f"dataset.files.test={train}"))
    assert line == f"{train}:4: field 'id': duplicate id 'p1' (first at {train}:2)"


def test_missing_file_and_directory(tmp_path):
    (line,) = refused(tmp_path / "out", *jsonl(f"dataset.files.train={tmp_path / 'nope.jsonl'}",
                                               f"dataset.files.test={tmp_path}"))
    assert line == f"{tmp_path / 'nope.jsonl'}: file not found (expected a JSONL or JSON file)"
    train = tmp_path / "train.jsonl"
    train.write_text(good_lines(2))
    (line,) = refused(tmp_path / "out", *jsonl(f"dataset.files.train={train}", f"dataset.files.test={tmp_path}"))
    assert line == f"{tmp_path}: is a directory (expected a JSONL or JSON file)"


def test_unset_file_is_named(tmp_path):
    (line,) = refused(tmp_path / "out", "dataset=jsonl")
    assert line.startswith("config dataset.files.train: not set")


def test_out_of_range_values_one_line_each(tmp_path):
    lines = refused(tmp_path / "out", "sampler.n=-1", "sampler.sampling.top_p=1.5", "selection.max_per_problem=0")
    assert lines == ["config sampler.n: expected an integer ≥ 1 (samples per problem), got -1",
                     "config sampler.sampling.top_p: expected a number in (0, 1], got 1.5",
                     "config selection.max_per_problem: expected an integer ≥ 1 or null, got 0"]


def test_config_typo_is_one_line(tmp_path):
    (line,) = refused(tmp_path / "out", "sampler.temprature=0.5")
    assert "Key 'temprature' not in 'SamplerConfig'" in line and "sampler.temprature" in line


def test_unknown_option_is_one_line(tmp_path):
    (line,) = refused(tmp_path / "out", "judge=mathh")
    assert "Could not find 'judge/mathh'" in line and "math" in line.split("Available options")[1]


def test_wrong_type_for_a_typed_key_is_one_line(tmp_path):
    (line,) = refused(tmp_path / "out", "sampler.n=four")
    assert "sampler.n" in line and "four" in line


# --- the wrapper itself, in process


def test_user_error_becomes_one_line_and_exit_2(monkeypatch):
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    out = io.StringIO()
    with pytest.raises(SystemExit) as e, one_line_errors(out):
        raise RecordError("data.jsonl:3: field 'prompt': expected a non-empty string, got empty string \"\"")
    assert e.value.code == EXIT_USER_ERROR
    assert out.getvalue() == "reasonkit: error: data.jsonl:3: field 'prompt': expected a non-empty string, got empty string \"\"\n"
    out = io.StringIO()
    with pytest.raises(SystemExit), one_line_errors(out):
        raise ConfigError(["config a: x", "config b: y"])
    assert out.getvalue().splitlines() == ["reasonkit: error: config a: x", "reasonkit: error: config b: y"]


def test_a_bug_keeps_its_traceback(monkeypatch):
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    with pytest.raises(ZeroDivisionError), one_line_errors(io.StringIO()):
        1 / 0  # noqa: B018


def test_hydra_full_error_set_by_the_user_shows_tracebacks(monkeypatch):
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    monkeypatch.delenv("_REASONKIT_SET_HYDRA_FULL_ERROR", raising=False)
    with pytest.raises(RecordError), one_line_errors(io.StringIO()):
        raise RecordError("x.jsonl:1: malformed JSON")


@pytest.mark.parametrize("overrides, want", [
    (("format=trl_dpo", "trainer=dpo_cpu"), "format=trl_dpo needs preference pairs: set selection.strategy=pairs"),
    (("format=trl_dpo", "selection=pairs_short_long", "trainer=dpo_cpu", "trainer.pack_pairs=true",
      "trainer.pack_multiple=0"), "trainer.pack_multiple: expected a whole number of tokens ≥ 1, got 0"),
    (("format=trl_dpo", "selection=pairs_short_long", "trainer=dpo_cpu", "+trainer.args.learnin_rate=1e-5"),
     "unexpected keyword argument 'learnin_rate'"),
])
def test_a_stage_validate_refusal_is_one_line(tmp_path, overrides, want):
    """Any stage's validate refusal (a ValueError, or the TypeError of TRL's config given an unknown
    key) reaches the user as one line, before any stage works."""
    (line,) = refused(tmp_path / "out", *overrides)
    assert want in line
