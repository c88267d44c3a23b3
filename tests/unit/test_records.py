import json

import pytest

from reasonkit.records import Problem, RecordError, Sample, read_jsonl, validate, validate_file


def write(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def test_valid_file(tmp_path):
    p = write(tmp_path / "ok.jsonl", [json.dumps({"id": "a", "prompt": "1+1?", "answer": "2"}), "",
                                      json.dumps({"id": "b", "prompt": "2+2?", "answer": None})])
    assert validate_file(p, Problem) == 2


@pytest.mark.parametrize("line,expect", [
    ('{"id": "a", "prompt": "x", "answer": "1"', "bad.jsonl:2: malformed JSON"),
    ('{"id": "a", "answer": "1"}', "bad.jsonl:2: field 'prompt': missing (expected string)"),
    ('{"id": 3, "prompt": "x", "answer": "1"}', "bad.jsonl:2: field 'id': expected string, got int"),
    ('{"id": "a", "prompt": "x", "answer": "1", "meta": []}', "bad.jsonl:2: field 'meta': expected object"),
    ('[1, 2]', "bad.jsonl:2: expected a JSON object"),
    ('{"id": "first", "prompt": "x", "answer": "1"}', "bad.jsonl:2: field 'id': duplicate id 'first'"),
])
def test_bad_lines_name_file_line_field(tmp_path, line, expect):
    p = write(tmp_path / "bad.jsonl", [json.dumps({"id": "first", "prompt": "p", "answer": "0"}), line])
    with pytest.raises(RecordError) as e:
        validate_file(p, Problem)
    assert expect in str(e.value)


def test_sample_schema_bool_is_not_int():
    s = {"id": "p_0", "problem_id": "p", "k": True, "prompt": "", "answer": None, "response": "",
         "model": "m", "sampling": {}, "seed": 1}
    with pytest.raises(RecordError, match="field 'k': expected integer"):
        validate(s, Sample, "x:1")
    s["k"] = 0
    assert validate(s, Sample, "x:1") is s


def test_read_jsonl_streams(tmp_path):
    p = write(tmp_path / "a.jsonl", [json.dumps({"i": i}) for i in range(3)])
    it = read_jsonl(p)
    assert next(it) == {"i": 0}
