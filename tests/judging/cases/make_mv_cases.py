"""Writes math_verify_tests.json: the default-matching (gold, pred, expected) cases of
math-verify's own test suite, read from the peer copy in ../shared/peer/math-verify-tests.

Those files are MIT-licensed (The HuggingFace Team; see each file's header and SOURCE.md there),
so the cases are copied into the repo with their source noted and CI needs no ../shared.
"Default matching" = the test functions whose one ``compare_strings`` call passes
``match_types=["latex", "expr"]`` and nothing else (default precision and strictness).
Re-run: python tests/judging/cases/make_mv_cases.py [path/to/math-verify-tests]
"""
import ast
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
# ../shared next to the main checkout; a worktree also finds it as <repo>/shared or /work/shared
CANDIDATES = [HERE.parents[2] / "shared", HERE.parents[2].parent / "shared", Path("/work/shared")]
COMMIT = "5d148cfaaf99214c2e4ffb4bc497ab042c592a7a"


def default_matching_cases(src: Path) -> list[dict]:
    out: list[dict] = []
    for f in sorted(src.glob("test_*.py")):
        tree = ast.parse(f.read_text())
        for fn in tree.body:
            if not isinstance(fn, ast.FunctionDef):
                continue
            calls = [c for c in ast.walk(fn) if isinstance(c, ast.Call)
                     and getattr(c.func, "id", None) == "compare_strings"]
            if len(calls) != 1:
                continue
            kw = {k.arg: k.value for k in calls[0].keywords}
            if set(kw) != {"match_types"} or ast.literal_eval(kw["match_types"]) != ["latex", "expr"]:
                continue
            for d in fn.decorator_list:
                if isinstance(d, ast.Call) and getattr(d.func, "attr", "") == "parametrize":
                    for n, row in enumerate(ast.literal_eval(d.args[1])):
                        gold, pred, expected = row
                        out.append({"id": f"{f.stem}.{fn.name}[{n}]", "gold": gold, "pred": pred,
                                    "expected": bool(expected)})
    return out


def main() -> None:
    if len(sys.argv) > 1:
        src = Path(sys.argv[1])
    else:
        found = [c / "peer" / "math-verify-tests" for c in CANDIDATES
                 if (c / "peer" / "math-verify-tests").is_dir()]
        if not found:
            sys.exit(f"math-verify-tests not found under any of {[str(c) for c in CANDIDATES]}")
        src = found[0]
    cases = default_matching_cases(src)
    doc = {"source": {"repo": "huggingface/Math-Verify", "folder": "tests", "commit": COMMIT,
                      "license": "MIT (The HuggingFace Team), stated in each file's header",
                      "selection": "test functions calling compare_strings(gold, pred, "
                                   "match_types=['latex', 'expr']) with default precision"},
           "cases": cases}
    (HERE / "math_verify_tests.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(cases)} cases")


if __name__ == "__main__":
    main()
