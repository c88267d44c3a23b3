"""Code benchmarks' rows (APPS, TACO, CodeContests, LiveCodeBench, HumanEval) as problems whose
tests the code judge runs: every source's test format becomes the judge's one format
(``{"inputs": [...], "outputs": [...], "fn_name"?}``) in the problem's ``meta.tests``."""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from reasonkit.data.benchmarks import KINDS, BenchmarkConfig, Mapped, _get, _text
from reasonkit.records import RecordError


def _tests(v: Any, where: str, col: str) -> dict[str, Any]:
    """APPS/TACO ``input_output`` (JSON text or dict with inputs/outputs/fn_name) and CodeContests'
    ``{input: [...], output: [...]}`` as the code judge's one format."""
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except json.JSONDecodeError as e:
            raise RecordError(f"{where}: field '{col}': malformed JSON tests ({e.msg})") from None
    if isinstance(v, dict) and "input" in v and "output" in v and "inputs" not in v:
        v = {"inputs": v["input"], "outputs": v["output"]}
    if not isinstance(v, dict) or not isinstance(v.get("inputs"), list) or not isinstance(v.get("outputs"), list):
        raise RecordError(f"{where}: field '{col}': expected tests {{\"inputs\": [...], \"outputs\": [...]}}")
    out = {"inputs": v["inputs"], "outputs": v["outputs"]}
    if v.get("fn_name"):
        out["fn_name"] = v["fn_name"]
    return out


def _lcb_tests(row: dict[str, Any], where: str) -> dict[str, Any]:
    """LiveCodeBench: ``public_test_cases`` (JSON list of {input, output, testtype}); functional
    (LeetCode) tests call ``metadata.func_name`` with one JSON argument per input line. The
    private cases are a pickled blob: not unpickled here (untrusted data)."""
    cases = row.get("public_test_cases")
    cases = json.loads(cases) if isinstance(cases, str) else cases
    if not isinstance(cases, list) or not cases:
        raise RecordError(f"{where}: field 'public_test_cases': expected a non-empty JSON list")
    meta = row.get("metadata") or {}
    meta = json.loads(meta) if isinstance(meta, str) else meta
    if all(c.get("testtype") == "functional" for c in cases):
        fn = meta.get("func_name")
        if not fn:
            raise RecordError(f"{where}: field 'metadata': functional tests need func_name")
        return {"inputs": [[json.loads(a) for a in c["input"].split("\n") if a.strip()] for c in cases],
                "outputs": [json.loads(c["output"]) for c in cases], "fn_name": fn}
    return {"inputs": [c["input"] for c in cases], "outputs": [c["output"] for c in cases]}


@KINDS.register("code")
def code_row(row: dict[str, Any], spec: BenchmarkConfig, fields: dict[str, str], where: str) -> Mapped:
    """APPS, TACO, CodeContests, LiveCodeBench: a statement and stdin/stdout or call tests."""
    problem = _text(_get(row, fields, "problem", where), where, fields.get("problem", "problem")).strip()
    if fields.get("tests") == "livecodebench":
        tests = _lcb_tests(row, where)
    else:
        tests = _tests(_get(row, fields, "tests", where), where, fields.get("tests", "tests"))
    starter = _get(row, fields, "starter_code", where, required=False) or ""
    return Mapped(problem, None, {"starter_code": starter}, {"tests": tests})


HUMANEVAL_MARK = "__RK_HUMANEVAL_PASSED__"


@KINDS.register("humaneval")
def humaneval_row(row: dict[str, Any], spec: BenchmarkConfig, fields: dict[str, str], where: str) -> Mapped:
    """HumanEval: the prompt is a signature + docstring; ``test`` defines ``check(candidate)``."""
    prompt = _text(_get(row, fields, "problem", where), where, fields.get("problem", "prompt"))
    test = _text(_get(row, fields, "test", where), where, fields.get("test", "test"))
    entry = _text(_get(row, fields, "entry_point", where), where, fields.get("entry_point", "entry_point"))
    return Mapped(prompt, None, {}, {"humaneval": {"prompt": prompt, "test": test, "entry_point": entry},
                                    "tests": {"inputs": [""], "outputs": [HUMANEVAL_MARK]}})


def humaneval_program(code: str, he: Mapping[str, str]) -> str:
    """The program the sandbox runs: the model's function (the prompt's header prepended when it
    wrote only the body), the dataset's ``check``, and a marker printed only if every assert held.
    The solution's own prints are swallowed so they cannot fake or break the marker."""
    if not re.search(rf"def\s+{re.escape(he['entry_point'])}\s*\(", code):
        code = he["prompt"] + code
    return ("import sys as _rk_sys, io as _rk_io\n_rk_out = _rk_sys.stdout\n_rk_sys.stdout = _rk_io.StringIO()\n"
            f"{code}\n\n{he['test']}\n\ncheck({he['entry_point']})\n"
            f"_rk_sys.stdout = _rk_out\nprint({HUMANEVAL_MARK!r})\n")
