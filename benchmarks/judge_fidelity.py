"""Judging fidelity on real outputs: ``judge=math`` against raw math-verify and against labels.

    python benchmarks/judge_fidelity.py                  # all three yardsticks (~5 min on 2 cores)
    python benchmarks/judge_fidelity.py --shared PATH    # where shared/benchmarks lives
    python benchmarks/judge_fidelity.py --only vote --out /tmp/v   # results/vote_spotcheck.md only

Yardsticks:
1. math-verify's own default-matching test cases (tests/judging/cases/math_verify_tests.json):
   agreement of ``judge=math`` (answer = gold, response = pred) with ``expected``, next to raw
   math-verify (``verify(parse(gold), parse(pred))``, default latex + expr extraction).
2. GPT-3 GSM8K solutions (generations/gpt3-gsm8k.jsonl, 4 models x 1319): agreement with
   OpenAI's ``is_correct`` labels. Gold = the number after the final ``A:`` of ``ground_truth``.
3. R1-distill dumps (generations/deepseek-r1-distill-*.jsonl, no labels): samples judged correct
   by ``judge=math`` vs raw math-verify, and every disagreement with both extractions. The
   thinking model's chat template opens ``<think>`` in the prompt (SOURCES.md), so it is judged
   with ``extract.opened_think=true``; the default (false) is reported too.
Raw math-verify gets the gold as ``$gold$`` (GSM8K: the number after ``####``) and the whole
response, with its own (signal) timeouts, in a 2-process pool.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from reasonkit.judging import build_judge  # noqa: E402
from reasonkit.judging.extract import extract_gold  # noqa: E402


# ----------------------------------------------------------------------------- raw math-verify


def _raw(task: tuple[str, str]) -> tuple[bool, str | None]:
    import logging

    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    gold, pred = task
    try:
        p = parse(pred)
        ok = bool(verify(parse(gold), p))
        return ok, (str(p[-1]) if len(p) >= 2 else None)
    except Exception:  # noqa: BLE001 - a raw-baseline failure is a false verdict, as for users
        return False, None


def raw_verdicts(pairs: list[tuple[str, str]], procs: int) -> list[tuple[bool, str | None]]:
    with mp.get_context("fork").Pool(procs) as pool:
        return pool.map(_raw, pairs, chunksize=8)


def judge_samples(samples: list[dict[str, Any]], cfg: dict[str, Any]) -> list[dict[str, Any]]:
    judge = build_judge({"name": "math", **cfg})
    try:
        return list(judge.judge(iter(samples)))
    finally:
        judge.close()


def sample(pid: str, gold: str, response: str, **extra: Any) -> dict[str, Any]:
    return {"id": f"{pid}_0", "problem_id": pid, "k": 0, "answer": gold, "response": response, **extra}


# ----------------------------------------------------------------------------- yardsticks


def mv_tests(procs: int) -> dict[str, Any]:
    doc = json.loads((ROOT / "tests/judging/cases/math_verify_tests.json").read_text())
    cases = doc["cases"]
    out = judge_samples([sample(c["id"], c["gold"], c["pred"]) for c in cases], {"workers": procs})
    raw = raw_verdicts([(c["gold"], c["pred"]) for c in cases], procs)
    rows = []
    for c, s, (r, _) in zip(cases, out, raw):
        if s["correct"] != c["expected"] or r != c["expected"]:
            rows.append({"id": c["id"], "gold": c["gold"], "pred": c["pred"][-200:],
                         "expected": c["expected"], "judge": s["correct"], "extracted": s["extracted"],
                         "raw": r})
    return {"cases": len(cases), "judge_agree": sum(s["correct"] == c["expected"] for c, s in zip(cases, out)),
            "raw_agree": sum(r == c["expected"] for c, (r, _) in zip(cases, raw)), "disagreements": rows}


_A_RE = re.compile(r"A:\s*(.+?)\s*$")


def gpt3(shared: Path, procs: int) -> dict[str, Any]:
    rows = [json.loads(line) for line in (shared / "generations/gpt3-gsm8k.jsonl").open()]
    models = ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification")
    samples, labels = [], []
    for i, r in enumerate(rows):
        gold = _A_RE.search(r["ground_truth"].strip().splitlines()[-1]).group(1)
        for m in models:
            samples.append(sample(f"{i}/{m}", gold, r[m]["solution"]))
            labels.append(bool(r[m]["is_correct"]))
    out = judge_samples(samples, {"workers": procs})
    raw = raw_verdicts([(f"${s['answer']}$", s["response"]) for s in samples], procs)
    dis = [{"id": s["problem_id"], "gold": s["answer"], "label": lab, "judge": s["correct"],
            "extracted": s["extracted"], "raw": r, "tail": s["response"][-160:]}
           for s, lab, (r, _) in zip(out, labels, raw) if s["correct"] != lab]
    return {"samples": len(samples), "judge_agree": sum(s["correct"] == lab for s, lab in zip(out, labels)),
            "raw_agree": sum(r == lab for (r, _), lab in zip(raw, labels)), "judge_disagreements": dis}


R1_FILES = {"math500": "deepseek-r1-distill-qwen-14b-math500.jsonl",
            "gsm8k": "deepseek-r1-distill-qwen-1.5b-gsm8k.jsonl"}


def classify(s: dict[str, Any], raw_ok: bool, raw_ans: str | None) -> str:
    """A first cut at why the two differ (the hand classification is in the Markdown)."""
    m = (s.get("meta") or {}).get("extract_method")
    if s["extracted"] is None:
        return f"project: no answer ({'unclosed think' if '</think>' not in s['response'] else 'none found'})"
    return f"project {'right' if s['correct'] else 'wrong'} via {m}; math-verify found {raw_ans!r}"


def r1(shared: Path, procs: int) -> dict[str, Any]:
    res: dict[str, Any] = {}
    for key, fname in R1_FILES.items():
        rows = [json.loads(line) for line in (shared / "generations" / fname).open()]
        for model in ("base_model", "thinking_model", "hybrid_model"):
            samples = []
            for i, r in enumerate(rows):
                samples.append(sample(f"{key}/{i}", r["correct_answer"], r["model_answers"][model]))
            golds = [extract_gold(s["answer"]) or "" for s in samples]
            raw = raw_verdicts([(f"${g}$", s["response"]) for g, s in zip(golds, samples)], procs)
            variants = {"default": {}}
            if model == "thinking_model":
                variants["opened_think"] = {"extract": {"opened_think": True}}
            for vname, extra in variants.items():
                try:
                    out = judge_samples([dict(s) for s in samples], {"workers": procs, **extra})
                except Exception as e:  # noqa: BLE001 - an older checkout without the option
                    print(f"{key}/{model}/{vname}: skipped ({type(e).__name__}: {str(e)[:80]})")
                    continue
                dis = []
                for i, (s, (rk, ra)) in enumerate(zip(out, raw)):
                    if s["correct"] != rk:
                        dis.append({"row": i, "gold": golds[i], "judge": s["correct"], "extracted": s["extracted"],
                                    "method": (s.get("meta") or {}).get("extract_method"), "raw": rk,
                                    "raw_extracted": ra, "why": classify(s, rk, ra),
                                    "has_close_think": "</think>" in s["response"]})
                res[f"{key}/{model}/{vname}"] = {
                    "samples": len(out), "judge_correct": sum(s["correct"] for s in out),
                    "raw_correct": sum(r for r, _ in raw), "disagreements": dis,
                    "methods": dict(Counter((s.get("meta") or {}).get("extract_method") for s in out))}
    return res


# ----------------------------------------------------------------------------- votes

VOTE_PROBES = {  # written here, not taken from the dumps: spellings a vote must merge or keep apart
    "half": [r"\frac{1}{2}", "0.5", "1/2", r"\dfrac12"],
    "x=3": ["x=3", "3", "x = 3"],
    "percent": [r"25\%", "25"],
    "interval": ["[0,1)", r"\left[0, 1\right)", "(0,1]"],
    "set": [r"\{1,2\}", "1, 2", "2, 1"],
}


def vote(shared: Path, procs: int) -> dict[str, Any]:
    """``judge=vote`` over the three models' answers to each dump problem, and over the probes:
    which clusters hold more than one spelling, and which answers that judge=math finds correct
    against the gold were still split apart (a missed merge)."""
    groups: list[tuple[str, str, list[str]]] = []
    for key, fname in R1_FILES.items():
        for i, line in enumerate((shared / "generations" / fname).open()):
            r = json.loads(line)
            groups.append((f"{key}/{i}", r["correct_answer"], [r["model_answers"][m] for m in
                                                                ("base_model", "thinking_model", "hybrid_model")]))
    for name, spellings in VOTE_PROBES.items():
        groups.append((f"probe/{name}", spellings[0], [f"The answer is $\\boxed{{{a}}}$." for a in spellings]))
    samples = [{"id": f"{pid}_{k}", "problem_id": pid, "k": k, "answer": gold, "response": resp}
               for pid, gold, resps in groups for k, resp in enumerate(resps)]
    judged = judge_samples([dict(s) for s in samples], {"workers": procs})
    judge = build_judge({"name": "vote", "workers": procs, "min_count": 1})
    try:
        voted = list(judge.judge(iter(samples)))
    finally:
        judge.close()
    by_pid: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for v, m in zip(voted, judged):
        by_pid.setdefault(v["problem_id"], []).append((v, m))
    merged, split, probes = [], [], []
    for pid, rows in by_pid.items():
        clusters: dict[int, list[str]] = {}
        for v, _ in rows:
            cid = (v.get("meta") or {}).get("cluster")
            if cid is not None:
                clusters.setdefault(cid, []).append(v["extracted"])
        row = {"problem": pid, "gold": extract_gold(rows[0][1]["answer"]),
               "clusters": [sorted(set(c)) for _, c in sorted(clusters.items())]}
        if pid.startswith("probe/"):
            probes.append(row)
            continue
        if any(len(set(c)) > 1 for c in clusters.values()):
            merged.append(row)
        right = {(v.get("meta") or {}).get("cluster") for v, m in rows if m["correct"]}
        if len(right - {None}) > 1:
            split.append(row)
    return {"problems": len(by_pid) - len(probes), "merged": merged, "split_correct": split, "probes": probes}


def vote_markdown(res: dict[str, Any]) -> str:
    v = res["vote"]

    def cl(c: list[list[str]]) -> str:
        return " · ".join("{" + ", ".join(f"`{a}`" for a in x) + "}" for x in c)

    out = ["# judge=vote spot-check on the R1-distill dumps' answers", "",
           f"Command: `{res['command']}`  ", f"Code versions: `{res['code_versions']}`", "",
           f"Each of the {v['problems']} problems (MATH-500 and GSM8K dumps) has three answers (base, thinking, "
           "hybrid model), extracted with judge=math's defaults and clustered by judge=vote (min_count 1). "
           "Clusters are listed largest first; `{…}` is one cluster with its distinct spellings.", "",
           "## Probes (written for this check, not from the dumps)", "",
           "| probe | clusters | one cluster? |", "|---|---|---|"]
    out += [f"| {p['problem']} | {cl(p['clusters'])} | {'yes' if len(p['clusters']) == 1 else 'no'} |"
            for p in v["probes"]]
    out += ["", f"## Real clusters holding more than one spelling ({len(v['merged'])})", "",
            "| problem | gold | clusters |", "|---|---|---|"]
    out += [f"| {m['problem']} | `{m['gold']}` | {cl(m['clusters'])} |" for m in v["merged"]]
    out += ["", f"## Answers judge=math finds correct but the vote split apart ({len(v['split_correct'])})", "",
            "| problem | gold | clusters |", "|---|---|---|"]
    out += [f"| {m['problem']} | `{m['gold']}` | {cl(m['clusters'])} |" for m in v["split_correct"]]
    return "\n".join(out) + "\n"


def _versions() -> dict[str, str]:
    try:
        from reasonkit.judging import code_versions
    except ImportError:  # a checkout from before code_versions (the "before" numbers)
        from reasonkit.judging.math_judge import MathJudge

        return {"judge": MathJudge.version}
    return code_versions({"name": "math"})


def machine() -> dict[str, Any]:
    return {"host": platform.node(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=None, help="folder holding benchmarks/ (default: ../shared)")
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--out", default=str(HERE / "results" / "judge_fidelity"))
    ap.add_argument("--only", default="mv,gpt3,r1,vote")
    a = ap.parse_args()
    cands = [Path(a.shared)] if a.shared else [ROOT.parent / "shared", ROOT / "shared", Path("/work/shared")]
    shared = next((c / "benchmarks" for c in cands if (c / "benchmarks").is_dir()), None)
    if shared is None:
        sys.exit(f"shared benchmarks not found under {[str(c) for c in cands]}; pass --shared")
    t0 = time.time()
    res: dict[str, Any] = {"machine": machine(), "command": " ".join(["python"] + sys.argv),
                           "code_versions": _versions()}
    only = a.only.split(",")
    if "mv" in only:
        res["math_verify_tests"] = mv_tests(a.procs)
    if "gpt3" in only:
        res["gpt3_gsm8k"] = gpt3(shared, a.procs)
    if "r1" in only:
        res["r1_distill"] = r1(shared, a.procs)
    if "vote" in only:
        res["vote"] = vote(shared, a.procs)
        (HERE / "results" / "vote_spotcheck.md").write_text(vote_markdown({**res, "vote": res["vote"]}))
    res["seconds"] = round(time.time() - t0, 1)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out + ".json").write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n")
    Path(a.out + ".md").write_text(markdown(res))
    print(summary(res))


def markdown(res: dict[str, Any]) -> str:
    """Counts and every disagreement category (the rows themselves are in the JSON: the R1 dumps
    have no license, so only row numbers and extracted answers are kept)."""
    out = ["# judge=math fidelity on real outputs", "", f"Machine: `{res['machine']}`  ",
           f"Command: `{res['command']}` ({res['seconds']} s)  ", f"Code versions: `{res['code_versions']}`", ""]
    if "math_verify_tests" in res:
        m = res["math_verify_tests"]
        out += ["## math-verify's own default-matching tests", "",
                f"judge=math agrees with `expected` on **{m['judge_agree']}/{m['cases']}**; raw math-verify "
                f"{m['raw_agree']}/{m['cases']}.", ""]
        for d in m["disagreements"]:
            out.append(f"- `{d['id']}`: expected {d['expected']}, judge {d['judge']} (extracted "
                       f"`{d['extracted']}`), raw {d['raw']}")
        out.append("")
    if "gpt3_gsm8k" in res:
        g = res["gpt3_gsm8k"]
        out += ["## GPT-3 GSM8K vs OpenAI's is_correct", "",
                f"judge=math **{g['judge_agree']}/{g['samples']}**; raw math-verify {g['raw_agree']}/{g['samples']}.", ""]
        for d in g["judge_disagreements"]:
            out.append(f"- `{d['id']}`: label {d['label']}, judge {d['judge']} (`{d['extracted']}`)")
        out.append("")
    if "r1_distill" in res:
        out += ["## R1-distill dumps: samples judged correct", "",
                "| file/model/config | judge=math | raw math-verify | disagreements | judge-only right | raw-only right |",
                "|---|---|---|---|---|---|"]
        for k, v in res["r1_distill"].items():
            jo = sum(d["judge"] and not d["raw"] for d in v["disagreements"])
            out.append(f"| {k} | {v['judge_correct']} | {v['raw_correct']} | {len(v['disagreements'])} | {jo} | "
                       f"{len(v['disagreements']) - jo} |")
        out += ["", "### Disagreement categories (automatic first cut)", ""]
        for k, v in res["r1_distill"].items():
            cats = Counter(_category(d) for d in v["disagreements"])
            if cats:
                out.append(f"- {k}: " + "; ".join(f"{c}: {n}" for c, n in cats.most_common()))
        out.append("")
        hand = ROOT / "tests/judging/cases/r1_disagreements.json"
        known = json.loads(hand.read_text())["rows"] if hand.is_file() else {}
        rows = [(f"{k}:{d['row']}", d) for k, v in res["r1_distill"].items() for d in v["disagreements"]]
        tally = Counter(known.get(key, {}).get("class", "UNCLASSIFIED") for key, _ in rows)
        out += ["### Every disagreement, classified by hand (tests/judging/cases/r1_disagreements.json)", "",
                "Totals: " + ", ".join(f"{c}: {n}" for c, n in tally.most_common()), "",
                "| row | judge=math | math-verify | class | why |", "|---|---|---|---|---|"]
        for key, d in rows:
            h = known.get(key, {"class": "UNCLASSIFIED", "why": ""})
            out.append(f"| {key} | {d['judge']} (`{d['extracted']}`) | {d['raw']} | {h['class']} | {h['why']} |")
        out.append("")
    return "\n".join(out) + "\n"


def _category(d: dict[str, Any]) -> str:
    if d["judge"]:
        return f"judge right, raw wrong (via {d['method']})"
    if d["extracted"] is None:
        return "judge: no answer" + ("" if d["has_close_think"] else " (no </think>: cut while thinking)")
    if d["method"] == "math_verify":
        return "judge: unmarked tail parsed, raw took a box elsewhere"
    return f"judge wrong via {d['method']}"


def summary(res: dict[str, Any]) -> str:
    lines = [f"machine: {res['machine']}", f"command: {res['command']}", f"versions: {res['code_versions']}"]
    if "math_verify_tests" in res:
        m = res["math_verify_tests"]
        lines.append(f"math-verify tests: judge {m['judge_agree']}/{m['cases']}, raw {m['raw_agree']}/{m['cases']}")
    if "gpt3_gsm8k" in res:
        g = res["gpt3_gsm8k"]
        lines.append(f"gpt3 gsm8k vs is_correct: judge {g['judge_agree']}/{g['samples']}, raw {g['raw_agree']}/{g['samples']}")
    for k, v in res.get("r1_distill", {}).items():
        lines.append(f"{k}: judge {v['judge_correct']} raw {v['raw_correct']} of {v['samples']}, "
                     f"disagree {len(v['disagreements'])}")
    lines.append(f"seconds: {res['seconds']}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
