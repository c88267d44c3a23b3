"""Every benchmark's loader on its real fields: the local copies' first rows (tests/fixtures), the
hub path through a real offline ``datasets`` cache, and rows written in the published schema for
the benchmarks with no copy here (GPQA, MMLU, MMLU-Pro, APPS, TACO, LiveCodeBench)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from eval_helpers import FIXTURES, REVISION, fixture_rows, seed_hub_cache

from reasonkit.data import benchmarks as bm
from reasonkit.data.benchmark_code import HUMANEVAL_MARK
from reasonkit.records import RecordError

REPO = Path(__file__).resolve().parents[2]
ALL = ["aime24", "aime25", "amc23", "math500", "gsm8k", "minerva_math", "olympiadbench", "mmlu_stem", "mmlu",
       "mmlu_pro", "gpqa_diamond", "humaneval", "code_contests", "apps", "taco", "livecodebench"]
LOCAL = {"aime24": "aime24.jsonl", "aime25": "aime25.jsonl", "amc23": "amc23.jsonl", "math500": "math500.jsonl",
         "gsm8k": "gsm8k_test.jsonl", "minerva_math": "minerva_math.jsonl", "olympiadbench": "olympiadbench.jsonl",
         "mmlu_stem": "mmlu_stem.jsonl", "humaneval": "humaneval.jsonl", "code_contests": "code_contests_test.jsonl"}


def local(name: str) -> list[dict]:
    return list(bm.problems(bm.load_spec(name, {"source": "local"}), root=FIXTURES))


def test_every_benchmark_yaml_has_the_schema_and_a_judge():
    assert sorted(bm.known()) == sorted(ALL)
    for name in ALL:
        s = bm.load_spec(name)
        assert s.name == name and s.source == "hub" and s.hub.id and s.hub.split
        assert s.judge in ("math", "choice", "code") and s.kind in bm.KINDS.names()
        assert all(1 <= k <= s.n for k in s.ks), name
        assert {"temperature", "top_p", "max_tokens"} <= set(s.sampling), name
        if name in LOCAL:
            assert s.local.file == LOCAL[name]


def test_misspelt_benchmark_key_is_named():
    with pytest.raises(ValueError, match="shufle_seed"):
        bm.load_spec("gpqa_diamond", {"shufle_seed": 1})
    with pytest.raises(ValueError, match="unknown benchmark 'aime2024'"):
        bm.load_spec("aime2024")


@pytest.mark.parametrize("name", sorted(LOCAL))
def test_local_copy_rows_load_with_their_gold(name):
    rows = fixture_rows(LOCAL[name])
    probs = local(name)
    assert len(probs) == len(rows)
    for p, r in zip(probs, rows):
        if name in ("aime24", "aime25", "math500"):
            assert p["answer"] == r["answer"].strip() and r["problem"] in p["prompt"] and "\\boxed{}" in p["prompt"]
        elif name == "amc23":
            assert p["answer"] == str(r["answer"]) and isinstance(r["answer"], float)  # math-verify equates 27.0, 27
        elif name == "gsm8k":
            assert p["answer"] == r["answer"].split("####")[-1].strip() and r["question"] in p["prompt"]
        elif name == "minerva_math":  # the gold is the solution's last \boxed{}
            last = r["solution"].rsplit("\\boxed{", 1)[1]
            assert last.startswith(p["answer"]) and p["meta"]["subject"] == r["type"]
        elif name == "olympiadbench":
            assert p["answer"] == r["final_answer"][0] and p["meta"]["subject"] == r["subfield"]
        elif name == "mmlu_stem":
            assert p["answer"] == "ABCD"[r["answer"]] and p["meta"]["subject"] == r["type"]
            assert all(f"{'ABCD'[i]}) {c}" in p["prompt"] for i, c in enumerate(r["choices"]))
        elif name == "humaneval":
            assert p["answer"] is None and r["prompt"] in p["prompt"]
            assert p["meta"]["humaneval"]["entry_point"] == r["entry_point"]
        elif name == "code_contests":
            assert p["meta"]["tests"] == r["tests"] and r["problem"].strip() in p["prompt"]
    assert len({p["id"] for p in probs}) == len(probs)


def test_math500_breakdown_fields_in_meta():
    rows = fixture_rows("math500.jsonl")
    probs = local("math500")
    assert [p["meta"] for p in probs] == [{"subject": r["subject"], "level": str(r["level"])} for r in rows]
    assert [p["id"] for p in probs] == [f"math500-{r['unique_id']}" for r in rows]


def test_bad_row_names_file_line_and_field(tmp_path):
    f = tmp_path / "m.jsonl"
    f.write_text(json.dumps({"problem": "x", "solution": "no box here", "idx": 0}) + "\n")
    with pytest.raises(RecordError, match=re.escape(f"{f}:1: field 'solution': no \\boxed{{}}")):
        list(bm.problems(bm.load_spec("minerva_math", {"source": "local", "local": {"file": str(f)}})))
    f.write_text(json.dumps({"question": "q", "type": "t", "choices": ["a", "b"], "answer": 5}) + "\n")
    with pytest.raises(RecordError, match=re.escape(f"{f}:1: field 'answer': expected a letter A-B")):
        list(bm.problems(bm.load_spec("mmlu_stem", {"source": "local", "local": {"file": str(f)}})))


def test_gpqa_shuffle_is_seeded_and_recorded():
    row = gpqa_rows()[0]
    spec = bm.load_spec("gpqa_diamond")
    fields = dict(spec.fields)
    a = bm.gpqa_row(row, spec, fields, "x")
    assert a == bm.gpqa_row(row, spec, fields, "x")  # same seed, same order
    assert a.extras["choices"][ord(a.answer) - 65] == row["Correct Answer"]
    assert a.meta == {"shuffle_seed": 0, "option_order": a.meta["option_order"]}
    orders = {tuple(bm.gpqa_row(row, bm.load_spec("gpqa_diamond", {"shuffle_seed": s}), fields, "x").meta["option_order"])
              for s in range(12)}
    assert len(orders) > 1  # the seed decides the order
    for s in range(12):
        m = bm.gpqa_row(row, bm.load_spec("gpqa_diamond", {"shuffle_seed": s}), fields, "x")
        assert m.extras["choices"][ord(m.answer) - 65] == row["Correct Answer"]


# ----------------------------------------------------------------------------- published-schema rows

def gpqa_rows() -> list[dict]:
    return [{"Record ID": "recA1", "Question": "A spin-1/2 particle is in state |up>. What is the probability of measuring spin down along z?",
             "Correct Answer": "0", "Incorrect Answer 1": "1/2", "Incorrect Answer 2": "1", "Incorrect Answer 3": "1/4",
             "High-level domain": "Physics", "Subdomain": "Quantum Mechanics", "Explanation": "Eigenstate of S_z."},
            {"Record ID": "recB2", "Question": "Which gas is most abundant in Earth's atmosphere?",
             "Correct Answer": "Nitrogen", "Incorrect Answer 1": "Oxygen", "Incorrect Answer 2": "Argon",
             "Incorrect Answer 3": "Carbon dioxide", "High-level domain": "Chemistry", "Subdomain": "Chemistry (general)",
             "Explanation": "About 78%."}]


def mmlu_rows() -> list[dict]:  # cais/mmlu "all"
    return [{"question": "Find the degree of the field extension Q(sqrt(2)) over Q.", "subject": "abstract_algebra",
             "choices": ["0", "2", "1", "3"], "answer": 1},
            {"question": "What is 7 * 6?", "subject": "elementary_mathematics", "choices": ["42", "36", "48", "13"], "answer": 0}]


def mmlu_pro_rows() -> list[dict]:  # TIGER-Lab/MMLU-Pro
    opts = [str(x) for x in (10, 12, 14, 16, 18, 20, 22, 24, 26, 28)]
    return [{"question_id": 70, "question": "What is 2 * 9?", "options": opts, "answer": "E", "answer_index": 4,
             "cot_content": "", "category": "math", "src": "ori_mmlu-high_school_mathematics"},
            {"question_id": 71, "question": "Which is a prime number?", "options": ["4", "6", "7", "9"], "answer": "C",
             "answer_index": 2, "cot_content": "", "category": "math", "src": "stemez-Math"}]


def apps_rows() -> list[dict]:  # codeparrot/apps: input_output is JSON text; fn_name for call-based problems
    return [{"problem_id": 4000, "question": "Read two integers and print their sum.", "solutions": json.dumps(["print(sum(map(int, input().split())))"]),
             "input_output": json.dumps({"inputs": ["1 2\n", "10 -3\n"], "outputs": ["3\n", "7\n"]}),
             "difficulty": "introductory", "url": "https://example.org/a", "starter_code": ""},
            {"problem_id": 4001, "question": "Return the square of x.", "solutions": json.dumps(["def square(x):\n    return x * x\n"]),
             "input_output": json.dumps({"fn_name": "square", "inputs": [[3], [-4]], "outputs": [9, 16]}),
             "difficulty": "interview", "url": "https://example.org/b", "starter_code": "def square(x):\n"}]


def taco_rows() -> list[dict]:  # BAAI/TACO
    base = {"raw_tags": "['Math']", "name": None, "source": "codeforces", "tags": "['Mathematics']",
            "skill_types": "['Amortized analysis']", "url": "https://example.org/t", "Expected Auxiliary Space": None,
            "time_limit": "1 second", "date": "2020-01-01", "picture_num": "0", "memory_limit": "256 megabytes",
            "Expected Time Complexity": None}
    return [{**base, "question": "Print the maximum of n integers.", "solutions": json.dumps(["input()\nprint(max(map(int, input().split())))"]),
             "starter_code": "", "input_output": json.dumps({"inputs": ["3\n1 5 2\n"], "outputs": ["5\n"]}), "difficulty": "EASY"}]


def lcb_rows() -> list[dict]:  # livecodebench/code_generation_lite
    return [{"question_title": "Echo", "question_content": "Print the given string twice.", "platform": "atcoder",
             "question_id": "abc999_a", "contest_id": "abc999", "contest_date": "2024-08-01T00:00:00", "starter_code": "",
             "difficulty": "easy", "public_test_cases": json.dumps([{"input": "ab\n", "output": "abab\n", "testtype": "stdin"}]),
             "private_test_cases": "eJyLjgUAARUAuQ==", "metadata": "{}"},
            {"question_title": "add-two", "question_content": "Return a + b.", "platform": "leetcode", "question_id": "9001",
             "contest_id": "weekly-contest-999", "contest_date": "2024-08-02T00:00:00",
             "starter_code": "class Solution:\n    def addTwo(self, a: int, b: int) -> int:\n        ",
             "difficulty": "easy", "public_test_cases": json.dumps([{"input": "1\n2", "output": "3", "testtype": "functional"}]),
             "private_test_cases": "eJyLjgUAARUAuQ==", "metadata": json.dumps({"func_name": "addTwo"})}]


def code_contests_hub_rows() -> list[dict]:  # deepmind/code_contests
    return [{"name": "1000_A. Sum", "description": "Print a+b.", "public_tests": {"input": ["1 2\n"], "output": ["3\n"]},
             "private_tests": {"input": ["5 6\n", "0 0\n"], "output": ["11\n", "0\n"]},
             "generated_tests": {"input": [], "output": []}, "source": 2, "difficulty": 7, "cf_rating": 800}]


def renamed(rows: list[dict], name: str) -> list[dict]:
    """A local copy's rows in the hub schema the YAML states (hub fields = local fields undone)."""
    s = bm.load_spec(name)
    back = {s.local.fields[k]: s.fields.get(k, k) for k in s.local.fields}
    return [{back.get(k, k): v for k, v in r.items()} for r in rows]


HUB_ROWS = {
    "gpqa_diamond": gpqa_rows, "mmlu": mmlu_rows, "mmlu_pro": mmlu_pro_rows, "apps": apps_rows, "taco": taco_rows,
    "livecodebench": lcb_rows, "code_contests": code_contests_hub_rows,
    **{n: (lambda n=n: renamed(fixture_rows(LOCAL[n]), n)) for n in LOCAL if n not in ("code_contests", "minerva_math")},
    "minerva_math": lambda: minerva_hub_rows(),
}


def minerva_hub_rows() -> list[dict]:  # math-ai/minervamath: {question, answer}, the answer already extracted
    from reasonkit.judging.extract import last_boxed

    return [{"question": r["problem"], "answer": last_boxed(r["solution"])} for r in fixture_rows("minerva_math.jsonl")]


def _load_offline(cache: Path, names: list[str], overrides: dict | None = None, stderr: list | None = None) -> dict:
    """Load benchmarks through the hub path in a fresh process with HF_HUB_OFFLINE=1 (datasets
    reads the variable at import)."""
    code = ("import json, sys\nfrom reasonkit.data import benchmarks as bm\nout = {}\n"
            "for n in json.loads(sys.argv[1]):\n"
            "    try:\n        out[n] = list(bm.problems(bm.load_spec(n, json.loads(sys.argv[2]).get(n))))\n"
            "    except Exception as e:\n        out[n] = type(e).__name__ + ': ' + str(e)\n"
            "print(json.dumps(out))\n")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_CACHE": str(cache), "HF_HOME": str(cache.parent / "hf_home"),
           "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    p = subprocess.run([sys.executable, "-c", code, json.dumps(names), json.dumps(overrides or {})],
                       capture_output=True, text=True, env=env, timeout=300, check=False)
    assert p.returncode == 0, p.stderr[-3000:]
    if stderr is not None:
        stderr.append(p.stderr)
    return json.loads(p.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def hub_cache(tmp_path_factory) -> Path:
    cache = tmp_path_factory.mktemp("hf") / "datasets"
    for name, rows in HUB_ROWS.items():
        s = bm.load_spec(name)
        rev = s.hub.revision if re.fullmatch(r"[0-9a-f]{40}", s.hub.revision or "") else REVISION
        seed_hub_cache(cache, s.hub.id, rows(), s.hub.split, revision=rev, config=s.hub.config)
    return cache


def test_hub_path_offline_every_benchmark(hub_cache):
    got = _load_offline(hub_cache, ALL)
    for name in ALL:
        probs = got[name]
        assert isinstance(probs, list), f"{name}: {probs}"
        assert len(probs) == len(HUB_ROWS[name]()), name
    # the same rows through the hub and the local copy are the same problems
    for name in LOCAL:
        if name not in ("code_contests", "minerva_math"):
            assert got[name] == local(name), name
    assert [(p["prompt"], p["answer"]) for p in got["minerva_math"]] == [(p["prompt"], p["answer"]) for p in local("minerva_math")]
    gold = {n: [p["answer"] for p in got[n]] for n in ("mmlu", "mmlu_pro")}
    assert gold == {"mmlu": ["B", "A"], "mmlu_pro": ["E", "C"]}
    assert "J) 28" in got["mmlu_pro"][0]["prompt"] and "one of A, B, C, D, E, F, G, H, I, J" in got["mmlu_pro"][0]["prompt"]
    assert [p["meta"]["subject"] for p in got["mmlu"]] == ["abstract_algebra", "elementary_mathematics"]
    for p, r in zip(got["gpqa_diamond"], gpqa_rows()):
        assert f"{p['answer']}) {r['Correct Answer']}" in p["prompt"]
        assert p["meta"]["domain"] == r["High-level domain"] and p["id"] == f"gpqa_diamond-{r['Record ID']}"
    assert got["apps"][0]["meta"]["tests"] == {"inputs": ["1 2\n", "10 -3\n"], "outputs": ["3\n", "7\n"]}
    assert got["apps"][1]["meta"]["tests"]["fn_name"] == "square" and "def square(x):" in got["apps"][1]["prompt"]
    assert got["apps"][1]["meta"]["level"] == "interview"
    assert got["taco"][0]["meta"] == {"tests": {"inputs": ["3\n1 5 2\n"], "outputs": ["5\n"]}, "level": "EASY"}
    assert got["livecodebench"][0]["meta"]["tests"] == {"inputs": ["ab\n"], "outputs": ["abab\n"]}
    assert got["livecodebench"][1]["meta"]["tests"] == {"inputs": [[1, 2]], "outputs": [3], "fn_name": "addTwo"}
    assert got["code_contests"][0]["meta"]["tests"] == {"inputs": ["5 6\n", "0 0\n"], "outputs": ["11\n", "0\n"]}


def test_hub_pinned_revision_is_checked_against_the_cache(hub_cache):
    pinned = bm.load_spec("math500").hub.revision
    assert re.fullmatch(r"[0-9a-f]{40}", pinned)
    other = "f" * 40
    got = _load_offline(hub_cache, ["math500"], {"math500": {"hub": {"revision": other}}})
    assert isinstance(got["math500"], str) and f"pins {other}" in got["math500"] and pinned in got["math500"]
    got = _load_offline(hub_cache, ["math500"])
    assert isinstance(got["math500"], list) and len(got["math500"]) == 3


def test_hub_unpinned_revision_warns_once_with_the_loaded_commit(hub_cache):
    assert not re.fullmatch(r"[0-9a-f]{40}", bm.load_spec("amc23").hub.revision)  # a branch: unpinned
    err: list[str] = []
    got = _load_offline(hub_cache, ["amc23", "math500", "amc23"], stderr=err)
    assert isinstance(got["amc23"], list)
    warned = [ln for ln in err[0].splitlines() if "unpinned" in ln]
    assert len(warned) == 1 and "amc23" in warned[0] and REVISION in warned[0]  # math500 is pinned: silent


def test_hub_missing_offline_is_one_line(tmp_path):
    got = _load_offline(tmp_path / "empty", ["aime24"])
    assert isinstance(got["aime24"], str) and got["aime24"].startswith("RecordError: benchmark 'aime24': hub dataset HuggingFaceH4/aime_2024")
    assert "\n" not in got["aime24"]


# ----------------------------------------------------------------------------- code tests in the sandbox

def _judge_code(problem: dict, programs: list[str]) -> list[bool]:
    from reasonkit.evaluation.cell import judged
    from reasonkit.judging import build_judge, to_config

    jc = to_config({"name": "code", "workers": 2})
    samples = [{"id": f"{problem['id']}_{k}", "problem_id": problem["id"], "response": f"```python\n{code}\n```",
                "answer": None, "meta": json.loads(json.dumps(problem["meta"]))} for k, code in enumerate(programs)]
    with build_judge(jc) as j:
        return [s["correct"] for s in judged(j, samples, jc)]


def test_humaneval_check_runs_in_the_sandbox():
    rows = fixture_rows("humaneval.jsonl")
    for p, r in zip(local("humaneval"), rows):
        right = r["prompt"] + r["canonical_solution"]
        body_only = r["canonical_solution"]  # a completion without the header: the prompt is prepended
        cheat = f"print({HUMANEVAL_MARK!r})\nimport sys\nsys.exit(0)"  # printing the marker early does not pass
        assert _judge_code(p, [right, body_only, r["prompt"] + "    return None\n", cheat]) == [True, True, False, False]


def test_apps_style_tests_run_in_the_sandbox(hub_cache):
    got = _load_offline(hub_cache, ["apps"])["apps"]
    assert _judge_code(got[0], ["print(sum(map(int, input().split())))", "print(0)"]) == [True, False]
    assert _judge_code(got[1], ["def square(x):\n    return x * x", "def square(x):\n    return x + x"]) == [True, False]
