"""Benchmark: reasonkit's math judge vs calling math-verify sequentially per sample, and
pathological inputs that must each be answered within the timeout.

    python benchmarks/judge_bench.py                       # full run (a few minutes)
    python benchmarks/judge_bench.py --problems 200 --pathological 10 --out /tmp/b.json

Workload: synthetic problems with seeded answers of several kinds (integers, decimals, fractions,
radicals, polynomials, intervals, multiples of pi), 16 responses each from a "model" of random
accuracy: correct answers in their canonical or an equivalent spelling, a few recurring wrong
answers, some truncated responses, reasoning in <think> (sometimes with a wrong boxed draft).

Baseline: what a user writes without reasonkit, one call per sample in the main thread:
``verify(parse(f"${gold}$"), parse(response))`` with math-verify's default (signal) timeouts.
reasonkit: ``build_judge({"name": "math"})`` over the same sample stream, pool start-up included.
Results go to a JSON file and a Markdown table next to it, with the machine they ran on.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from reasonkit.judging import build_judge  # noqa: E402

# ----------------------------------------------------------------------------- workload


# answer kinds and their weights: "math" is roughly MATH-500's mix (half integers, a third
# fractions/radicals/pi/polynomials/intervals, a tenth sets, complex numbers, equations, e and
# text answers); "int" is GSM8K/AIME (integers only); "hard" holds only kinds the fast path
# cannot decide (every distinct answer goes to math-verify: the floor of the speed-up)
MIXES = {"math": {"int": 50, "dec": 5, "frac": 13, "sqrt": 7, "poly": 5, "interval": 5, "pi": 4,
                  "set": 3, "complex": 2, "eq": 2, "exp": 2, "text": 2},
         "int": {"int": 100},
         "hard": {"set": 1, "complex": 1, "eq": 1, "exp": 1, "text": 1}}


def _answer(rng: random.Random, mix: dict[str, int]) -> tuple[str, str, list[str], list[str]]:
    """(kind, canonical gold, equivalent spellings, wrong answers) for one problem."""
    kind = rng.choices(list(mix), list(mix.values()))[0]
    return (kind, *_answer_of(rng, kind))


def _answer_of(rng: random.Random, kind: str) -> tuple[str, list[str], list[str]]:
    if kind == "int":
        a = rng.randint(-200, 100_000)
        alts = [f"{a}.0", f"{a:,}" if abs(a) >= 1000 else f"{a}.00"]
        return str(a), alts, [str(a + 1), str(a * 2), str(a - 10)]
    if kind == "dec":
        a = Fraction(rng.randint(1, 999), 4)
        return f"{float(a):g}", [f"\\frac{{{a.numerator}}}{{{a.denominator}}}", f"{a.numerator}/{a.denominator}"], \
            [f"{float(a) + 0.5:g}", f"{float(a) * 2:g}"]
    if kind == "frac":
        p, q = rng.randint(1, 50), rng.randint(2, 60)
        f = Fraction(p, q)
        if f.denominator == 1:
            f = Fraction(p, q + 1) if Fraction(p, q + 1).denominator != 1 else Fraction(1, 7)
        n, d = f.numerator, f.denominator
        return f"\\frac{{{n}}}{{{d}}}", [f"\\dfrac{{{n}}}{{{d}}}", f"{n}/{d}", f"\\frac{{{2 * n}}}{{{2 * d}}}"], \
            [f"\\frac{{{d}}}{{{n}}}", f"\\frac{{{n + 1}}}{{{d}}}"]
    if kind == "sqrt":
        a, b = rng.randint(2, 9), rng.choice([2, 3, 5, 6, 7])
        return f"{a}\\sqrt{{{b}}}", [f"\\sqrt{{{a * a * b}}}", f"{a} \\sqrt {b}"], \
            [f"{a + 1}\\sqrt{{{b}}}", f"\\sqrt{{{a * b}}}"]
    if kind == "poly":
        r, s = rng.randint(1, 9), rng.randint(1, 9)
        return f"(x+{r})(x+{s})", [f"x^2+{r + s}x+{r * s}", f"(x+{s})(x+{r})"], \
            [f"x^2+{r + s + 1}x+{r * s}", f"(x-{r})(x+{s})"]
    if kind == "interval":
        a, b = sorted(rng.sample(range(-20, 20), 2))
        return f"({a}, {b}]", [f"({a},{b}]", f"\\left({a}, {b}\\right]"], [f"[{a}, {b}]", f"({a}, {b})"]
    if kind == "pi":
        k = rng.randint(2, 12)
        return f"{k}\\pi", [f"\\pi {k}", f"{2 * k}\\pi/2"], [f"{k + 1}\\pi", f"\\frac{{{k}}}{{\\pi}}"]
    if kind == "set":
        a, b, c = rng.sample(range(-9, 20), 3)
        return f"\\{{{a},{b},{c}\\}}", [f"\\{{{c},{a},{b}\\}}", f"\\{{{b}, {c}, {a}\\}}"], \
            [f"\\{{{a},{b}\\}}", f"\\{{{a},{b},{c + 1}\\}}"]
    if kind == "complex":
        a, b = rng.randint(1, 9), rng.randint(2, 9)
        return f"{a}+{b}i", [f"{b}i+{a}", f"{a} + {b} i"], [f"{a}-{b}i", f"{b}+{a}i"]
    if kind == "eq":
        m, c = rng.randint(2, 9), rng.randint(1, 9)
        return f"y={m}x+{c}", [f"y = {c} + {m}x", f"{m}x+{c}"], [f"y={m}x-{c}", f"y={c}x+{m}"]
    if kind == "exp":
        k = rng.randint(2, 9)
        return f"e^{{{k}}}", [f"e^{k}", f"e^{{{k - 1}}}e"], [f"e^{{{k + 1}}}", f"{k}e"]
    word, other = rng.choice([("even", "odd"), ("Evelyn", "Emma"), ("yes", "no"), ("north", "south")])
    return f"\\text{{{word}}}", [f"\\text{{ {word} }}", f"\\textbf{{{word}}}"], [f"\\text{{{other}}}"]


_FINAL = [
    "The answer is $\\boxed{{{a}}}$.",
    "**Final Answer**\n\\[\n\\boxed{{{a}}}\n\\]",
    "Therefore the final answer is \\boxed{{{a}}}.",
    "So we get $\\boxed{{{a}}}$",
]


_STEPS = ["Let $x = {a}$, so $x^2 = {aa}$. ", "Then {a} + {b} = {ab}. ", "We have $\\frac{{{a}}}{{{b}}}$ here. ",
          "Wait, let me reconsider the approach. ", "Substituting $y = {b}$ gives ${a}y = {ay}$. ",
          "Hmm, that does not look right; check the constraint again. "]


def _reasoning(rng: random.Random, chars: int) -> str:
    """Reasoning-trace filler of about ``chars`` characters (numbers and inline math, like real
    traces, so a checker that scans the whole response pays for its length)."""
    parts, n = [], 0
    while n < chars:
        a, b = rng.randint(1, 99), rng.randint(1, 99)
        p = rng.choice(_STEPS).format(a=a, b=b, aa=a * a, ab=a + b, ay=a * b)
        parts.append(p)
        n += len(p)
    return "".join(parts)


def _response(rng: random.Random, ans: str | None, draft: str, think_chars: tuple[int, int]) -> str:
    steps = _reasoning(rng, rng.randint(*think_chars))
    if ans is None:  # truncated while thinking
        return f"<think>{steps} and then"
    think = f"<think>{steps}" + (f" maybe \\boxed{{{draft}}}? no." if rng.random() < 0.1 else "") + "</think>\n"
    return think + rng.choice(_FINAL).format(a=ans)


def workload(n_problems: int, n_samples: int, seed: int, mix: str = "math",
             think_chars: tuple[int, int] = (2000, 16000)) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for p in range(n_problems):
        kind, gold, alts, wrongs = _answer(rng, MIXES[mix])
        acc = rng.uniform(0.1, 0.95)
        for k in range(n_samples):
            u = rng.random()
            if u < 0.04:
                ans = None
            elif u < 0.04 + acc:
                ans = gold if rng.random() < 0.7 else rng.choice(alts)
            else:
                ans = rng.choice(wrongs[:2] if rng.random() < 0.8 else wrongs)
            out.append({"id": f"b{p}_{k}", "problem_id": f"b{p}", "k": k, "prompt": "", "answer": gold,
                        "response": _response(rng, ans, rng.choice(wrongs), think_chars), "kind": kind})
    return out


# ----------------------------------------------------------------------------- pathological


def pathological() -> list[tuple[str, str, str]]:
    """(name, gold, response) inputs that hang or blow up naive checking."""
    cases: list[tuple[str, str, str]] = []

    def box(name, ans, gold="1"):
        cases.append((name, gold, f"<think>...</think> The answer is \\boxed{{{ans}}}"))

    for b in (9, 8, 7, 6, 5):
        box(f"tower_{b}", f"{b}^{{{b}^{{{b}^{{{b}}}}}}}")
    for e in (10, 12, 15, 20, 30):
        box(f"pow10_{e}", f"10^{{10^{{{e}}}}}")
    for n in ("(10^{8})!", "100000000!", "(10^{9})!", "(2^{40})!", "(10^{6})!!"):
        box(f"factorial_{len(cases)}", n)
    for e in (10000, 50000, 100000, 1000000):
        box(f"poly_{e}", f"(x+1)^{{{e}}}", gold="x+1")
    box("poly2", "(x+y)^{5000}", gold="x+y")
    for d in (50, 100, 200, 300):
        box(f"nested_frac_{d}", "\\frac{" * d + "1" + "}{2}" * d)
    for d in (100, 200, 400):
        box(f"nested_sqrt_{d}", "\\sqrt{" * d + "2" + "}" * d)
    for n in (400, 900, 1900):
        box(f"digits_{n}", "9" * n, gold="9" * n)
    box("digits_near", "9" * 1500 + "8", gold="9" * 1501)
    for e in ("1e99999", "10^{999999}", "2^{2^{64}}", "\\exp(\\exp(\\exp(100)))"):
        box(f"huge_{len(cases)}", e)
    for n in (500, 1000, 1500):
        cases.append((f"unbalanced_{n}", "1", "The answer is \\boxed{" + "\\frac{" * n))
    cases.append(("open_braces", "1", "\\boxed{" + "{" * 1800))
    cases.append(("close_braces", "1", "}" * 100000 + " answer: 1"))
    for n in (200, 500):
        box(f"left_right_{n}", "\\left(" * n + "1" + "\\right)" * n)
    for n in (300, 900):
        box(f"long_sum_{n}", "1+" * n + "1", gold=str(n + 1))
    box("matrix_20", "\\begin{pmatrix}" + "\\\\".join("&".join("x" for _ in range(20)) for _ in range(20)) + "\\end{pmatrix}")
    box("binom", "\\binom{10^{9}}{5\\cdot 10^{8}}")
    box("binom2", "\\binom{2^{50}}{2^{49}}")
    box("sum_huge", "\\sum_{k=1}^{10^{10}} k^{k}")
    box("prod_huge", "\\prod_{k=1}^{10^{8}} k")
    box("integral", "\\int_0^{10^{10}} x^{x} dx")
    box("gamma", "\\Gamma(10^{10})")
    box("sin_tower", "\\sin(\\sin(" * 50 + "1" + "))" * 50)
    box("exp_tower", "e^{e^{e^{e^{e^{10}}}}}")
    box("repeated_frac", "+".join(f"\\frac{{1}}{{{i}}}" for i in range(1, 400)))
    cases.append(("huge_text", "1", "lorem ipsum " * 100000))
    cases.append(("many_boxes", "1", "\\boxed{2}" * 20000 + "\\boxed{1}"))
    cases.append(("think_flood", "1", "<think>" * 20000 + "1"))
    return cases


# ----------------------------------------------------------------------------- real text

R1_MATH500 = "generations/deepseek-r1-distill-qwen-14b-math500.jsonl"


def real_workload(shared: Path) -> list[dict]:
    """The MATH-500 R1-distill dump: every model's response to every problem (long chains of
    thought), gold = the dump's ``correct_answer``. Read in place: the dump states no license."""
    rows = [json.loads(line) for line in (shared / R1_MATH500).open()]
    out = []
    for i, r in enumerate(rows):
        for model, resp in r["model_answers"].items():
            out.append({"id": f"{i}_{model}", "problem_id": f"{i}_{model}", "answer": r["correct_answer"],
                        "response": resp, "kind": model})
    return out


_SHARE_PACKAGES = ("sympy", "latex2sympy2_extended", "antlr4", "math_verify", "reasonkit")


def _self_time_by_package(prof) -> dict[str, float]:
    """Seconds spent in each package's own code (cProfile self time, so nothing counts twice)."""
    import pstats

    st = pstats.Stats(prof)
    out = {p: 0.0 for p in _SHARE_PACKAGES}
    out["other"] = 0.0
    for (fname, _, _), (_, _, tt, _, _) in st.stats.items():  # type: ignore[attr-defined]
        pkg = next((p for p in _SHARE_PACKAGES if f"/{p}/" in fname), "other")
        out[pkg] += tt
    return {k: round(v, 3) for k, v in out.items()}


def _baseline_pass(samples: list[dict]) -> tuple[list[bool], float, float, float, float]:
    """One sequential pass (verdicts, seconds, parse s, verify s, CPU s); run in a fresh process
    so that no pass finds math-verify's caches (ANTLR's DFA, sympy's, its LRUs) already filled."""
    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.ERROR)

    t_parse = t_verify = 0.0
    out = []
    t0, c0 = time.perf_counter(), time.process_time()
    for s in samples:
        a = time.perf_counter()
        g, p = parse(f"${s['answer']}$"), parse(s["response"])
        b = time.perf_counter()
        out.append(bool(verify(g, p)))
        t_parse += b - a
        t_verify += time.perf_counter() - b
    return out, time.perf_counter() - t0, t_parse, t_verify, time.process_time() - c0


def _workers_cpu(pool) -> float:
    """CPU seconds (user + system) the pool's live workers have used so far, from /proc (a shared
    machine's wall clock says little: this is the work done). Workers killed on the way are not
    counted (none are on this workload: see stats.timeouts)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for w in pool._workers:
        try:
            fields = Path(f"/proc/{w.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def _reasonkit_pass(samples: list[dict], workers: int) -> dict:
    """One judge=math run: pool start-up timed on its own, then the samples; the parent's own CPU
    time (extraction, fast path, bookkeeping: every thread of this process) and the tasks sent to
    the workers are recorded."""
    judge = build_judge({"name": "math", "workers": workers})
    sent: list = []
    run = judge.checker.pool.run

    def recording_run(items):
        sent.extend(items)
        return run(items)

    t0 = time.perf_counter()
    run([("verify", "1", "1")])  # pool start-up (forkserver importing sympy), timed on its own
    start_s = time.perf_counter() - t0
    judge.checker.pool.run = recording_run  # type: ignore[method-assign]
    pool = judge.checker.pool
    t0, c0, w0 = time.perf_counter(), time.process_time(), _workers_cpu(pool)
    ours = [s["correct"] for s in judge.judge(dict(s) for s in samples)]
    steady_s, parent_cpu = time.perf_counter() - t0, time.process_time() - c0
    workers_cpu = _workers_cpu(pool) - w0
    judge.close()
    return {"verdicts": ours, "start_s": start_s, "steady_s": steady_s, "workers_cpu_s": workers_cpu,
            "parent_cpu_s": parent_cpu, "sent": sent,
            "stats": {k: v for k, v in judge.stats.items() if k != "disagreement_examples"}}


def _replay(tasks: list, profile: bool) -> dict:
    """The workers' tasks run again in one fresh process (cold, as a worker starts): CPU seconds
    per kind, tail parses split by whether the shortcut decided them, or (``profile``) self time
    by package."""
    import cProfile

    from reasonkit.judging import mv_worker

    mv_worker.init_worker()
    if profile:
        prof = cProfile.Profile()
        prof.enable()
        for task in tasks:
            mv_worker.run_task(task)
        prof.disable()
        return _self_time_by_package(prof)
    cpu = {"parse_shortcut": 0.0, "parse_full": 0.0, "verify": 0.0}
    count = {**dict.fromkeys(cpu, 0), "parse_with_verify": 0}
    for task in tasks:
        kind = task[0]
        if kind in ("parse", "parse_verify"):
            kind = "parse_full" if mv_worker._first_match(task[1]) is mv_worker._UNSURE else "parse_shortcut"
        t0 = time.process_time()
        value = mv_worker.run_task(task)
        cpu[kind] += time.process_time() - t0
        count[kind] += 1
        if task[0] == "parse_verify" and value[2] is not None:
            count["parse_with_verify"] += 1
    return {"cpu_s": {k: round(v, 2) for k, v in cpu.items()}, "tasks": count}


def _baseline_twice(samples: list[dict]) -> tuple:
    """Two sequential passes in one process; the second one's numbers (caches warm)."""
    _baseline_pass(samples)
    return _baseline_pass(samples)


def _steady(samples: list[dict], workers: int) -> dict:
    """Both sides judge the responses twice and the second pass is timed: the baseline in one
    process, reasonkit with one pool and its verdict cache off (``cache_size: 0``), so every pair
    and tail is worked again, by warm workers. What a long run looks like once start-up and
    per-process warm-up are paid."""
    base, base_s, _, _, base_cpu = _in_fresh_process(_baseline_twice, samples)
    judge = build_judge({"name": "math", "workers": workers, "cache_size": 0})
    list(judge.judge(dict(s) for s in samples))
    pool = judge.checker.pool
    t0, c0, w0 = time.perf_counter(), time.process_time(), _workers_cpu(pool)
    ours = [s["correct"] for s in judge.judge(dict(s) for s in samples)]
    ours_s, parent_cpu, workers_cpu = time.perf_counter() - t0, time.process_time() - c0, _workers_cpu(pool) - w0
    judge.close()
    return {"baseline_s": round(base_s, 2), "reasonkit_s": round(ours_s, 2), "speedup": round(base_s / ours_s, 2),
            "baseline_cpu_s": round(base_cpu, 2), "reasonkit_parent_cpu_s": round(parent_cpu, 2),
            "reasonkit_workers_cpu_s": round(workers_cpu, 2),
            "work_ratio": round(base_cpu / max(parent_cpu + workers_cpu, 1e-9), 2),
            "same_verdicts_as_first_pass": None, "correct": [sum(base), sum(ours)]}


def _in_fresh_process(fn, *args):
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def _median(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def real_run(shared: Path, workers: int, repeat: int = 3) -> dict:
    """verdicts/s of judge=math vs naive sequential math-verify on the real responses, ``repeat``
    times alternately (the machine is shared: medians are reported, and the minima), and where
    the time goes: the baseline split into parse / verify, the parent's CPU time, the workers'
    tasks replayed cold in a fresh process, and both profiled by package."""
    import cProfile

    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.ERROR)
    samples = real_workload(shared)
    n = len(samples)
    bases, runs = [], []
    for _ in range(repeat):  # timed without a profiler, alternately; both start cold each time
        bases.append(_in_fresh_process(_baseline_pass, samples))  # (its caches would carry over)
        runs.append(_reasonkit_pass(samples, workers))
    base, _, t_parse, t_verify, _ = bases[0]
    base_s = _median([b[1] for b in bases])
    start_s, steady_s = _median([r["start_s"] for r in runs]), _median([r["steady_s"] for r in runs])
    ours_s = _median([r["start_s"] + r["steady_s"] for r in runs])
    ours, sent, stats = runs[0]["verdicts"], runs[0]["sent"], runs[0]["stats"]
    prof = cProfile.Profile()  # a further baseline pass, profiled, for the shares
    prof.enable()
    for s in samples:
        verify(parse(f"${s['answer']}$"), parse(s["response"]))
    prof.disable()
    base_pk = _self_time_by_package(prof)
    steady = _steady(samples, workers)
    steady["same_verdicts_as_first_pass"] = steady["correct"] == [sum(base), sum(ours)]
    replay = _in_fresh_process(_replay, sent, False)
    work_pk = _in_fresh_process(_replay, sent, True)
    sym = ("sympy", "latex2sympy2_extended", "antlr4")
    pure = lambda pk: round(pk["sympy"] / max(sum(pk.values()), 1e-9), 3)  # noqa: E731
    share = lambda pk, k: round(pk[k] / max(sum(pk.values()), 1e-9), 3)  # noqa: E731
    return {
        "samples": n, "responses_chars_mean": round(sum(len(s["response"]) for s in samples) / n), "repeat": repeat,
        "baseline": {"seconds": round(base_s, 2), "seconds_each": [round(b[1], 2) for b in bases],
                     "verdicts_per_s": round(n / base_s, 1), "correct": sum(base),
                     "parse_s": round(t_parse, 2), "verify_s": round(t_verify, 2),
                     "self_time_by_package_s": base_pk,
                     "sympy_share": pure(base_pk),
                     "sympy_and_latex_parsing_share": round(sum(base_pk[k] for k in sym) / max(sum(base_pk.values()), 1e-9), 3)},
        "reasonkit": {"seconds": round(ours_s, 2), "seconds_each": [round(r["start_s"] + r["steady_s"], 2) for r in runs],
                      "verdicts_per_s": round(n / ours_s, 1), "correct": sum(ours),
                      "workers": workers or os.cpu_count(), "stats": stats,
                      "pool_start_s": round(start_s, 2), "warm_seconds": round(steady_s, 2),
                      "warm_verdicts_per_s": round(n / steady_s, 1),
                      "parent_cpu_s": round(_median([r["parent_cpu_s"] for r in runs]), 2),
                      "worker_tasks": {"parse": sum(t[0] in ("parse", "parse_verify") for t in sent),
                                       "verify": sum(t[0] == "verify" for t in sent)},
                      "worker_replay": replay,
                      "worker_self_time_by_package_s": work_pk, "worker_sympy_share": pure(work_pk),
                      "worker_antlr_share": share(work_pk, "antlr4"),
                      "worker_sympy_and_latex_parsing_share":
                          round(sum(work_pk[k] for k in sym) / max(sum(work_pk.values()), 1e-9), 3)},
        "cpu": {"baseline_s": round(_median([b[4] for b in bases]), 2),
                "reasonkit_parent_s": round(_median([r["parent_cpu_s"] for r in runs]), 2),
                "reasonkit_workers_s": round(_median([r["workers_cpu_s"] for r in runs]), 2)},
        "steady": steady,
        "speedup": round(base_s / ours_s, 2), "warm_speedup": round(base_s / steady_s, 2),
        "best_speedup": round(min(b[1] for b in bases) / min(r["start_s"] + r["steady_s"] for r in runs), 2),
        "verdicts_differ": sum(x != y for x, y in zip(base, ours)),
    }


def real_markdown(r: dict) -> str:
    m, x = r["machine"], r["real"]
    b, o = x["baseline"], x["reasonkit"]
    rp = o["worker_replay"]
    cpu, cnt = rp["cpu_s"], rp["tasks"]
    load = lambda k: tuple(round(v, 2) for v in m[k]) if k in m else "?"  # noqa: E731
    return "\n".join([
        "# judge=math speed on real text: MATH-500 R1-distill responses", "",
        f"Machine: {m['cpu']}, {m['cores']} cores shared with other agents' jobs (load average "
        f"{load('load_avg_at_start')} at start, {load('load_avg_at_end')} at the end), Python {m['python']}.", "",
        f"Command: `{r['command']}`", "",
        f"Workload: {x['samples']} responses (3 models x 332 problems of "
        f"deepseek-r1-distill-qwen-14b-math500.jsonl), {x['responses_chars_mean']} characters on average. "
        f"Each side timed {x.get('repeat', 1)} times, alternately, each time starting cold (the baseline in a "
        f"fresh process, reasonkit with a fresh pool); medians below (each run: baseline "
        f"{b.get('seconds_each')} s, reasonkit {o.get('seconds_each')} s).", "",
        "| judge | samples | seconds | verdicts/s | speed-up | judged correct |", "|---|---|---|---|---|---|",
        f"| naive sequential `verify(parse(gold), parse(response))` | {x['samples']} | {b['seconds']} | "
        f"{b['verdicts_per_s']} | 1.0 | {b['correct']} |",
        f"| reasonkit judge=math ({o['workers']} workers, pool start included) | {x['samples']} | {o['seconds']} | "
        f"{o['verdicts_per_s']} | {x['speedup']} | {o['correct']} |",
        f"| reasonkit judge=math, pool already started ({o['pool_start_s']} s start-up left out) | {x['samples']} | "
        f"{o['warm_seconds']} | {o['warm_verdicts_per_s']} | {x['warm_speedup']} | {o['correct']} |", "",
        f"Best run against best run: {x.get('best_speedup')}x.", "",
        *([f"CPU time (the work done, which the shared machine's load does not change much; medians): baseline "
           f"{c['baseline_s']} s; reasonkit {c['reasonkit_parent_s']} s in the parent + {c['reasonkit_workers_s']} s in "
           f"its workers (pool start-up not included) = {round(c['reasonkit_parent_s'] + c['reasonkit_workers_s'], 2)} s: "
           f"**{round(c['baseline_s'] / max(c['reasonkit_parent_s'] + c['reasonkit_workers_s'], 1e-9), 2)}x less work**.", ""]
          if (c := x.get("cpu")) else []),
        *([f"Second pass over the same responses (both sides warm: the baseline in one process, reasonkit with one "
           f"pool and its verdict cache off, so every tail and pair is worked again): baseline {st['baseline_s']} s, "
           f"reasonkit {st['reasonkit_s']} s wall (**{st['speedup']}x**); CPU baseline {st['baseline_cpu_s']} s, reasonkit "
           f"{st['reasonkit_parent_cpu_s']} + {st['reasonkit_workers_cpu_s']} s (**{st['work_ratio']}x less work**).", ""]
          if (st := x.get("steady")) else []),
        f"Where the baseline's time goes: parse {b['parse_s']} s, verify {b['verify_s']} s (of {b['seconds']} s). "
        f"cProfile self time by package (a further, profiled pass): {b['self_time_by_package_s']}; sympy itself "
        f"**{round(100 * b['sympy_share'])}%**, sympy + LaTeX parsing (latex2sympy, its antlr4 parser) "
        f"**{round(100 * b['sympy_and_latex_parsing_share'])}%**.", "",
        "Where reasonkit's time goes:", "",
        f"- parent process (extraction of all {x['samples']} responses, fast path, cache, bookkeeping): "
        f"{o.get('parent_cpu_s')} s CPU;",
        f"- pool start-up (forkserver importing sympy, {o['workers']} workers): {o['pool_start_s']} s;",
        f"- worker tasks, replayed cold in one fresh process: {o['worker_tasks']['parse']} tail parses "
        f"({cnt['parse_shortcut']} found by the shortcut in {cpu['parse_shortcut']} s CPU, {cnt['parse_full']} through "
        f"math-verify's parser in {cpu['parse_full']} s; {cnt.get('parse_with_verify', 0)} of them also verified their "
        f"pair, included in those times) and {o['worker_tasks']['verify']} separate verifications ({cpu['verify']} s); "
        f"the rest was decided by the fast path / cache: "
        f"{ {k: o['stats'].get(k) for k in ('pairs', 'fast_path', 'cache_hits', 'verified', 'timeouts')} }.",
        f"- cProfile self time of those tasks by package (another fresh process): "
        f"{o['worker_self_time_by_package_s']}; the antlr4 LaTeX parser **{round(100 * o.get('worker_antlr_share', 0))}%**, "
        f"sympy itself **{round(100 * o['worker_sympy_share'])}%**, sympy + LaTeX parsing "
        f"**{round(100 * o['worker_sympy_and_latex_parsing_share'])}%**.", "",
        f"Verdicts that differ between the two: {x['verdicts_differ']} (judging fidelity, not speed: see "
        "judge_fidelity.md).", ""])


# ----------------------------------------------------------------------------- runs


def run_baseline(samples: list[dict]) -> tuple[list[bool], float]:
    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.ERROR)
    t0 = time.perf_counter()
    out = [bool(verify(parse(f"${s['answer']}$"), parse(s["response"]))) for s in samples]
    return out, time.perf_counter() - t0


def run_reasonkit(samples: list[dict], **cfg) -> tuple[list[bool], float, dict]:
    t0 = time.perf_counter()
    judge = build_judge({"name": "math", **cfg})
    out = [s["correct"] for s in judge.judge(dict(s) for s in samples)]
    judge.close()
    return out, time.perf_counter() - t0, judge.stats


_BASELINE_ONE = """
import sys, json, time, logging
from math_verify import parse, verify
logging.getLogger("math_verify").setLevel(logging.ERROR)
gold, resp = json.loads(sys.stdin.read())
t = time.perf_counter(); r = verify(parse("$" + gold + "$"), parse(resp)); print(json.dumps([bool(r), time.perf_counter() - t]))
"""


def baseline_one(gold: str, resp: str, limit: float) -> str:
    """math-verify on one pathological input in a child process (it may never return)."""
    try:
        r = subprocess.run([sys.executable, "-c", _BASELINE_ONE], input=json.dumps([gold, resp]),
                           capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return f"no answer after {limit:.0f}s (killed)"
    if r.returncode != 0:
        return f"crashed (exit {r.returncode})"
    ok, secs = json.loads(r.stdout.strip().splitlines()[-1])
    return f"{ok} in {secs:.2f}s"


def math_verify_in_thread() -> str:
    """What plain math-verify does when called from a worker thread (e.g. inside a server)."""
    import threading

    from math_verify import parse

    out: dict[str, str] = {}

    def go() -> None:
        try:
            parse("$\\frac{1}{2}$")
            out["r"] = "returned"
        except Exception as e:  # noqa: BLE001 - the point is to show what it raises
            out["r"] = f"{type(e).__name__}: {str(e)[:90]}"

    t = threading.Thread(target=go)
    t.start()
    t.join(30)
    return out.get("r", "no answer after 30s")


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "load_avg_at_start": os.getloadavg()}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problems", type=int, default=3000)
    ap.add_argument("--samples", type=int, default=16)
    ap.add_argument("--baseline-problems", type=int, default=None,
                    help="run the sequential baseline on the first N problems only (default: all)")
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mix", choices=sorted(MIXES), default="math")
    ap.add_argument("--think-chars", type=int, nargs=2, default=(2000, 16000),
                    help="reasoning length range per response, in characters")
    ap.add_argument("--pathological", type=int, default=None, help="how many pathological inputs (default: all)")
    ap.add_argument("--pathological-timeout", type=float, default=2.0)
    ap.add_argument("--baseline-pathological", type=int, default=8,
                    help="pathological inputs also given to plain math-verify (in a killable child)")
    ap.add_argument("--baseline-limit", type=float, default=20.0)
    ap.add_argument("--skip-no-fast", action="store_true", help="skip the fast_path=false variant")
    ap.add_argument("--out", default=None, help="default: judge_bench_results.json (--real: "
                    "results/judge_bench_real.json)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="--real: timed passes of each, alternately (medians reported)")
    ap.add_argument("--real", action="store_true",
                    help="time the real MATH-500 R1-distill responses instead of the synthetic mix")
    ap.add_argument("--shared", default=None, help="folder holding benchmarks/ (default: ../shared)")
    a = ap.parse_args(argv)
    if a.real:
        cands = [Path(a.shared)] if a.shared else [HERE.parent.parent / "shared", Path("/work/shared")]
        shared = next((c / "benchmarks" for c in cands if (c / "benchmarks" / R1_MATH500).is_file()), None)
        if shared is None:
            sys.exit(f"{R1_MATH500} not found under {[str(c / 'benchmarks') for c in cands]}; pass --shared")
        res = {"machine": machine(), "command": "python benchmarks/judge_bench.py " + " ".join(argv or sys.argv[1:])}
        res["real"] = real_run(shared, a.workers, a.repeat)
        res["machine"]["load_avg_at_end"] = os.getloadavg()
        out = Path(a.out or HERE / "results" / "judge_bench_real.json")
        out.write_text(json.dumps(res, indent=1) + "\n")
        out.with_suffix(".md").write_text(real_markdown(res))
        print(real_markdown(res), flush=True)
        return res
    a.out = a.out or str(HERE / "judge_bench_results.json")

    res: dict = {"machine": machine(), "command": "python benchmarks/judge_bench.py " + " ".join(argv or sys.argv[1:]),
                 "workload": {"problems": a.problems, "samples_per_problem": a.samples, "seed": a.seed,
                              "mix": a.mix, "answer_kinds": MIXES[a.mix], "think_chars": list(a.think_chars)}}
    samples = workload(a.problems, a.samples, a.seed, a.mix, tuple(a.think_chars))
    nb = len(samples) if a.baseline_problems is None else a.baseline_problems * a.samples
    print(f"workload: {len(samples)} samples; baseline on {nb}", flush=True)

    base, base_s = run_baseline(samples[:nb])
    res["baseline"] = {"samples": nb, "seconds": round(base_s, 3), "verdicts_per_s": round(nb / base_s, 1),
                       "correct": sum(base)}
    print("baseline", res["baseline"], flush=True)

    ours, ours_s, stats = run_reasonkit(samples, workers=a.workers)
    res["reasonkit"] = {"samples": len(samples), "seconds": round(ours_s, 3),
                        "verdicts_per_s": round(len(samples) / ours_s, 1), "correct": sum(ours),
                        "stats": {k: v for k, v in stats.items() if k != "disagreement_examples"}}
    res["speedup"] = round(res["reasonkit"]["verdicts_per_s"] / res["baseline"]["verdicts_per_s"], 2)
    print("reasonkit", res["reasonkit"]["verdicts_per_s"], "verdicts/s; speedup", res["speedup"], flush=True)

    diff = [i for i in range(nb) if base[i] != ours[i]]
    res["agreement"] = {"compared": nb, "disagree": len(diff),
                        "rate": round(1 - len(diff) / nb, 5) if nb else None,
                        "reasonkit_true_baseline_false": sum(ours[i] for i in diff),
                        "by_kind": {k: sum(samples[i]["kind"] == k for i in diff) for k in sorted({samples[i]["kind"] for i in diff})},
                        "examples": [{"gold": samples[i]["answer"], "response_tail": samples[i]["response"][-80:],
                                      "baseline": base[i], "reasonkit": ours[i]} for i in diff[:8]]}

    if not a.skip_no_fast:
        nf, nf_s, nf_stats = run_reasonkit(samples, workers=a.workers, fast_path=False)
        res["reasonkit_no_fast_path"] = {"seconds": round(nf_s, 3), "verdicts_per_s": round(len(samples) / nf_s, 1),
                                         "speedup": round(len(samples) / nf_s / res["baseline"]["verdicts_per_s"], 2),
                                         "verified": nf_stats["verified"], "cache_hits": nf_stats["cache_hits"],
                                         "same_verdicts_as_fast_path": sum(x == y for x, y in zip(nf, ours))}
        print("no fast path", res["reasonkit_no_fast_path"], flush=True)

    cases = pathological()[:a.pathological]
    if not cases:
        return _write(res, a.out)
    judge = build_judge({"name": "math", "workers": a.workers, "timeout_s": a.pathological_timeout})
    judge.checker.pool.run([("1", "1")])  # start the workers before timing
    rows = []
    for name, gold, resp in cases:
        t0 = time.perf_counter()
        s = next(judge.judge([{"id": f"{name}_0", "problem_id": name, "answer": gold, "response": resp}]))
        secs = time.perf_counter() - t0
        rows.append({"name": name, "seconds": round(secs, 3), "correct": s["correct"],
                     "verdict": s["meta"].get("verdict", s["meta"].get("extract_method")),
                     "within_timeout": secs <= a.pathological_timeout + 1.0})
    judge.close()
    res["pathological"] = {"inputs": len(rows), "timeout_s": a.pathological_timeout,
                           "allowed_s": a.pathological_timeout + 1.0,
                           "max_seconds": max(r["seconds"] for r in rows),
                           "all_within_timeout": all(r["within_timeout"] for r in rows),
                           "timeouts": sum(r["verdict"] == "timeout" for r in rows), "cases": rows}
    print("pathological: max", res["pathological"]["max_seconds"], "s; all within:",
          res["pathological"]["all_within_timeout"], flush=True)
    picks = ("tower_9", "pow10_10", "factorial_10", "poly_100000", "nested_frac_100", "binom", "gamma",
             "sum_huge")
    hung = [c for c in cases if c[0] in picks][:a.baseline_pathological]
    res["pathological_baseline"] = [{"name": n, "math_verify_alone": baseline_one(g, r, a.baseline_limit)}
                                    for n, g, r in hung]
    res["math_verify_in_thread"] = math_verify_in_thread()

    return _write(res, a.out)


def _write(res: dict, path: str) -> dict:
    out = Path(path)
    out.write_text(json.dumps(res, indent=1) + "\n")
    out.with_suffix(".md").write_text(markdown(res))
    print("wrote", out, flush=True)
    return res


def markdown(r: dict) -> str:
    m, b, o = r["machine"], r["baseline"], r["reasonkit"]
    lines = [
        "# Judge benchmark results", "",
        f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, {m['platform']}; "
        f"load average at start {tuple(round(x, 2) for x in m['load_avg_at_start'])} "
        "(the machine is shared, so absolute rates vary between runs).", "",
        f"Command: `{r['command']}`", "",
        f"Workload: {r['workload']['problems']} problems x {r['workload']['samples_per_problem']} samples "
        f"(seed {r['workload']['seed']}; answer kinds {r['workload']['answer_kinds']}; reasoning "
        f"{r['workload']['think_chars'][0]}-{r['workload']['think_chars'][1]} characters per response).", "",
        "| judge | samples | seconds | verdicts/s | speedup |", "|---|---|---|---|---|",
        f"| math-verify sequential (baseline) | {b['samples']} | {b['seconds']} | {b['verdicts_per_s']} | 1.0 |",
        f"| reasonkit judge=math | {o['samples']} | {o['seconds']} | {o['verdicts_per_s']} | {r['speedup']} |",
    ]
    if "reasonkit_no_fast_path" in r:
        nf = r["reasonkit_no_fast_path"]
        lines.append(f"| reasonkit judge=math fast_path=false | {o['samples']} | {nf['seconds']} | "
                     f"{nf['verdicts_per_s']} | {nf['speedup']} |")
    st = o["stats"]
    ag = r["agreement"]
    lines += ["", f"reasonkit stats: {st['pairs']} pairs, {st['fast_path']} fast path, {st['cache_hits']} cache hits, "
              f"{st['verified']} sent to math-verify, {st['timeouts']} timeouts.", "",
              f"Verdict agreement with the baseline: {ag['disagree']} of {ag['compared']} differ "
              f"({ag['reasonkit_true_baseline_false']} where reasonkit says correct and the baseline not; "
              f"by answer kind: {ag.get('by_kind', {})}).", ""]
    for ex in ag["examples"][:4]:
        lines.append(f"- gold `{ex['gold']}`, response ends `{' '.join(ex['response_tail'][-45:].split())}`: "
                     f"baseline {ex['baseline']}, reasonkit {ex['reasonkit']}")
    lines.append("")
    p = r.get("pathological")
    if not p:
        return "\n".join(lines) + "\n"
    lines += [f"## Pathological inputs ({p['inputs']}, timeout {p['timeout_s']} s)", "",
              f"Slowest answer {p['max_seconds']} s; all within timeout + 1 s: {p['all_within_timeout']}; "
              f"{p['timeouts']} ended by killing the worker.", "",
              "| input | seconds | verdict |", "|---|---|---|"]
    lines += [f"| {c['name']} | {c['seconds']} | {c['verdict']} |" for c in p["cases"]]
    if r.get("math_verify_in_thread"):
        lines += ["", f"Plain math-verify called from a worker thread: {r['math_verify_in_thread']}"]
    if r.get("pathological_baseline"):
        lines += ["", "Plain math-verify on some of them (child process, killed at the limit):", "",
                  "| input | math-verify alone |", "|---|---|"]
        lines += [f"| {x['name']} | {x['math_verify_alone']} |" for x in r["pathological_baseline"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
