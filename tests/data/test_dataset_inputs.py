"""The input contract for ``dataset=jsonl`` files: every case in ``cases/dataset_files.json`` is
either read as a user would expect or refused with one line naming file, line and field.

A case's ``text`` is written with its ``encoding`` (``latin-1`` makes invalid UTF-8,
``utf-8-sig`` adds a byte-order mark); ``where``/``says`` may hold ``{file}``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reasonkit.data import load
from reasonkit.data.config import DatasetConfig
from reasonkit.records import InputError

CASES = json.loads((Path(__file__).parent / "cases" / "dataset_files.json").read_text(encoding="utf-8"))


def dataset(path: Path, fields: dict | None = None) -> DatasetConfig:
    cfg = DatasetConfig(name="cases", source="jsonl", files={"train": str(path)}, sizes={})
    if fields:
        cfg.fields = fields
    return cfg


def write_case(tmp_path: Path, case: dict) -> Path:
    path = tmp_path / case["file"]
    path.write_bytes(case["text"].encode(case.get("encoding", "utf-8")))
    return path


def refusal(cfg: DatasetConfig) -> str:
    with pytest.raises(InputError) as e:
        load.check(cfg, "train")
    msg = str(e.value)
    assert "\n" not in msg and "Traceback" not in msg
    return msg


def test_enough_cases():
    assert len(CASES) >= 30
    assert len({c["id"] for c in CASES}) == len(CASES)
    assert {c["expect"] for c in CASES} == {"accepted", "refused"}


@pytest.mark.parametrize("case", [c for c in CASES if c["expect"] == "accepted"], ids=lambda c: c["id"])
def test_accepted_as_a_user_expects(tmp_path, case):
    cfg = dataset(write_case(tmp_path, case), case.get("fields"))
    info = load.check(cfg, "train")
    probs = list(load.problems(cfg, "train"))
    assert info["count"] == len(probs) == len(case["ids"])
    assert [p["id"] for p in probs] == case["ids"]
    for key, field in (("answers", "answer"), ("prompts", "prompt"), ("meta", "meta")):
        if key in case:
            assert [p[field] for p in probs] == case[key], case["note"]
    for p in probs:  # no BOM, CR or stray whitespace left in what a stage will read
        assert not p["prompt"].startswith("\ufeff") and not p["prompt"].endswith("\r")


@pytest.mark.parametrize("case", [c for c in CASES if c["expect"] == "refused"], ids=lambda c: c["id"])
def test_refused_in_one_line_naming_file_line_field(tmp_path, case):
    path = write_case(tmp_path, case)
    msg = refusal(dataset(path, case.get("fields")))
    assert case["where"].format(file=path) in msg, msg
    if case["field"]:
        assert f"field '{case['field']}'" in msg, msg
    assert case["says"].format(file=path) in msg, msg
    for extra in case.get("also", []):
        assert extra in msg, msg


def test_same_problems_from_jsonl_and_json_array(tmp_path):
    """The same records as JSON lines and as a JSON array give the same fingerprint, so the
    artifact hash does not depend on how the file was shipped."""
    recs = [{"id": f"p{i}", "prompt": f"q{i}", "answer": str(i)} for i in range(5)]
    a = tmp_path / "a.jsonl"
    a.write_text("".join(json.dumps(r) + "\n" for r in recs))
    b = tmp_path / "b.json"
    b.write_text(json.dumps(recs, indent=2))
    assert load.check(dataset(a), "train") == load.check(dataset(b), "train")


def test_invalid_utf8_byte_offset_points_at_the_byte(tmp_path):
    good = json.dumps({"id": "a", "prompt": "x", "answer": "1"}).encode() + b"\r\n"
    bad = b'{"id": "b", "prompt": "caf\xe9", "answer": "1"}\n'
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + good + bad)
    msg = refusal(dataset(path))
    offset = int(msg.split("byte offset ")[1].split()[0])
    assert path.read_bytes()[offset] == 0xE9 and f"{path}:2:" in msg


def test_very_long_line_is_read_whole(tmp_path):
    """A 4 MB prompt (a long proof, a pasted document) is a valid record, not an error."""
    prompt = "Prove it. " + "x" * 4_000_000
    path = tmp_path / "long.jsonl"
    path.write_text(json.dumps({"id": "a", "prompt": "short", "answer": "1"}) + "\n"
                    + json.dumps({"id": "b", "prompt": prompt, "answer": "2"}) + "\n")
    probs = list(load.problems(dataset(path), "train"))
    assert [len(p["prompt"]) for p in probs] == [5, len(prompt)]


def test_very_long_bad_line_is_named_with_a_short_message(tmp_path):
    path = tmp_path / "long.jsonl"
    path.write_text(json.dumps({"id": "a", "prompt": "x", "answer": ["y" * 1_000_000]}) + "\n")
    msg = refusal(dataset(path))
    assert f"{path}:1: field 'answer'" in msg and len(msg) < 400 + len(str(path))


def test_missing_file(tmp_path):
    msg = refusal(dataset(tmp_path / "nope.jsonl"))
    assert msg == f"{tmp_path / 'nope.jsonl'}: file not found (expected a JSONL or JSON file)"


def test_directory_instead_of_a_file(tmp_path):
    msg = refusal(dataset(tmp_path))
    assert msg == f"{tmp_path}: is a directory (expected a JSONL or JSON file)"


def test_split_without_a_file(tmp_path):
    cfg = DatasetConfig(name="cases", source="jsonl", files={"test": str(tmp_path / "t.jsonl")}, sizes={})
    assert refusal(cfg).startswith("config dataset.files.train: not set")


def test_unreadable_file(tmp_path):
    """chmod 000 blocks reads for a normal user; root (CI containers) reads anyway, which is then
    what we check: the file is read, not refused with a wrong message."""
    path = tmp_path / "locked.jsonl"
    path.write_text(json.dumps({"id": "a", "prompt": "x", "answer": "1"}) + "\n")
    path.chmod(0)
    try:
        blocked = not os.access(path, os.R_OK)
        if blocked:
            assert refusal(dataset(path)) == f"{path}: permission denied (the file must be readable by this user)"
        else:
            assert os.geteuid() == 0  # only root reads a mode-000 file
            assert load.check(dataset(path), "train")["count"] == 1
    finally:
        path.chmod(0o644)


def test_unreadable_file_refused_for_an_unprivileged_user(tmp_path):
    """The permission-denied path itself, run for real as ``nobody`` when the tests run as root."""
    import shutil
    import subprocess
    import sys

    if os.geteuid() != 0:
        pytest.skip("covered by test_unreadable_file for a normal user")
    python = "/usr/bin/python3"
    if not (shutil.which("setpriv") and os.access(python, os.X_OK)):
        pytest.skip("needs setpriv and /usr/bin/python3 to drop to an unprivileged uid")
    d = Path("/tmp") / f"rk-perm-{os.getpid()}"
    d.mkdir(exist_ok=True)
    d.chmod(0o755)
    path = d / "locked.jsonl"
    path.write_text("{}\n")
    path.chmod(0)
    repo = Path(__file__).resolve().parents[2]
    # records.py only needs the standard library, so the system python can import it alone
    script = (f"import sys, importlib.util; spec = importlib.util.spec_from_file_location('r', {str(repo / 'reasonkit' / 'records.py')!r}); "
              "m = importlib.util.module_from_spec(spec); sys.modules['r'] = m; spec.loader.exec_module(m)\n"
              f"try:\n    list(m.read_input({str(path)!r}))\nexcept m.InputError as e:\n    print(e)\n")
    try:
        out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", python, "-c", script],
                             capture_output=True, text=True, timeout=60, cwd="/")
    finally:
        shutil.rmtree(d)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == f"{path}: permission denied (the file must be readable by this user)", sys.version


def test_cap_stops_reading_but_check_still_names_the_bad_line(tmp_path):
    """``dataset.sizes`` caps how many problems are used; lines past the cap are not read."""
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps({"id": f"p{i}", "prompt": "x", "answer": "1"}) + "\n" for i in range(3))
                    + "{broken\n")
    cfg = dataset(path)
    cfg.sizes = {"train": 3}
    assert load.check(cfg, "train")["count"] == 3
    cfg.sizes = {}
    assert f"{path}:4: malformed JSON" in refusal(cfg)
