"""judge=math: verdicts from JSON cases, caching, the fast path, timeouts, the second checker."""
import json
import threading
import time

import pytest

from reasonkit.judging import build_judge, to_config
from reasonkit.judging.math_judge import MathJudge
from reasonkit.judging.mathcheck import MathChecker

from .conftest import load_cases, make_samples

MATH = load_cases("math.json")


def run(judge, samples):
    return list(judge.judge(iter(samples)))


def test_math_cases(checker):
    judge = MathJudge(to_config({"workers": 2}), checker=checker)
    samples = [{"id": f"{c['id']}_0", "problem_id": c["id"], "k": 0, "answer": c["gold"],
                "response": c["response"]} for c in MATH]
    out = run(judge, samples)
    wrong = [(c["id"], c["gold"], s["extracted"], s["correct"]) for c, s in zip(MATH, out)
             if s["correct"] != c["correct"]]
    assert not wrong
    assert all(s["judge"] == judge.tag and s["judge"].startswith("math@") for s in out)


def test_same_answer_verified_once_and_order_kept(checker):
    before = dict(checker.stats)
    # e is outside the fast path's grammar: every distinct pair goes to math-verify
    resp = [r"\boxed{e^2}", r"\boxed{e^{2}}", r"\boxed{e^2}", r"The answer is $e^3$"] * 4
    samples = make_samples({"pA": (r"e^{2}", resp), "pB": (r"e^2", resp)})
    out = run(MathJudge(to_config({}), checker=checker), samples)
    assert [s["id"] for s in out] == [s["id"] for s in samples]
    assert [s["correct"] for s in out[:4]] == [True, True, True, False]
    assert [s["correct"] for s in out[16:20]] == [True, True, True, False]
    # string-equal to the gold (fast path): 4 in pA, 8 in pB. The other 20 samples hold 4
    # distinct (gold, answer) pairs: 4 verifications, 16 cache hits.
    delta = {k: checker.stats[k] - before[k] for k in ("verified", "cache_hits", "fast_path")}
    assert delta == {"verified": 4, "cache_hits": 16, "fast_path": 12}


def test_fast_path_decides_integers_without_workers():
    judge = build_judge({"name": "math", "workers": 1})
    out = run(judge, make_samples({"p": ("19", [r"<think>7+12=19</think> The answer is \boxed{19}",
                                               r"\boxed{20}", r"\boxed{019}"])}))
    assert [s["correct"] for s in out] == [True, False, True]
    assert judge.checker._pool is None  # no process was started
    judge.close()


def test_fast_path_agrees_with_math_verify(checker):
    """Every pair the fast path decides gets the verdict math-verify gives with it switched off."""
    problems = {
        "int": ("19", [r"\boxed{19}", r"\boxed{20}", r"\boxed{19.0}", "19", r"\boxed{-19}", "#### 1,9"]),
        "frac": (r"\frac{3}{4}", [r"\boxed{0.75}", "3/4", r"\boxed{\dfrac{6}{8}}", r"\boxed{0.7}",
                                  r"\boxed{\frac{4}{3}}", r"\boxed{-\frac{3}{4}}", r"\boxed{.75}"]),
        "dec": ("2.5", [r"\boxed{\frac{5}{2}}", r"\boxed{5/2}", r"\boxed{2.50}", r"\boxed{2.4999}", r"\boxed{25}"]),
        "neg": ("-0.125", [r"\boxed{-\frac{1}{8}}", r"\boxed{\frac{-1}{8}}", r"\boxed{0.125}", "-1/8"]),
        "third": (r"\frac{1}{3}", [r"\boxed{0.333333}", r"\boxed{0.33}", r"\boxed{0.3333333}", "1/3"]),
        "sqrt": (r"3\sqrt{5}", [r"\boxed{\sqrt{45}}", r"\boxed{3 \sqrt {5}}", r"\boxed{\sqrt{15}}",
                                r"\boxed{4\sqrt{5}}", r"\boxed{6.7082}", r"\boxed{\frac{15}{\sqrt{5}}}"]),
        "pi": (r"6\pi", [r"\boxed{\pi 6}", r"\boxed{12\pi/2}", r"\boxed{7\pi}", r"\boxed{\frac{6}{\pi}}",
                         r"\boxed{18.85}", r"\boxed{2\cdot 3\pi}"]),
        "poly": ("(x+3)(x+4)", [r"\boxed{x^2+7x+12}", r"\boxed{(x+4)(x+3)}", r"\boxed{x^2+7x+13}",
                               r"\boxed{(x-3)(x+4)}", r"\boxed{x^{2}+7 x+12}", r"\boxed{y^2+7y+12}"]),
        "rational": (r"\frac{x^2-1}{x-1}", [r"\boxed{x+1}", r"\boxed{x-1}", r"\boxed{\frac{x+1}{1}}"]),
        "cube": (r"\sqrt[3]{54}", [r"\boxed{3\sqrt[3]{2}}", r"\boxed{2\sqrt[3]{3}}"]),
        "nested": (r"\frac{\sqrt{3}}{2}", [r"\boxed{\frac{1}{2}\sqrt{3}}", r"\boxed{\frac{\sqrt{2}}{2}}",
                                          r"\boxed{\sqrt{\frac{3}{4}}}", r"\boxed{0.866}"]),
        "power": ("2^{10}", [r"\boxed{1024}", r"\boxed{1000}", r"\boxed{4^5}", r"\boxed{2^{-10}}"]),
        "slash": (r"3\pi", [r"\boxed{6\pi/2}", r"\boxed{9\pi/2}", r"\boxed{3 \sqrt 2}"]),
        "interval": ("(-3, 8]", [r"\boxed{(-3,8]}", r"\boxed{[-3, 8]}", r"\boxed{(-3, 8)}", r"\boxed{(-3, 9]}",
                                r"\boxed{\left(-3, 8\right]}", r"\boxed{(-3, \sqrt{64}]}"]),
        "ray": (r"(-\infty, 3]", [r"\boxed{(-\infty, 3]}", r"\boxed{(-\infty, 3)}", r"\boxed{(-\infty, 4]}",
                                   r"\boxed{[3, \infty)}"]),
        # spellings math-verify's normalization reduces to a number; "x = n" against a number
        "deg": (r"30^\circ", [r"\boxed{30}", r"\boxed{30^{\circ}}", r"\boxed{60^\circ}", r"\boxed{x = 30}",
                               r"\boxed{31}", r"\boxed{\frac{\pi}{6}}"]),
        "units": (r"5.4 \text{ cents}", [r"\boxed{5.4}", r"\boxed{5.4\text{ cents}}", r"\boxed{5.1}",
                                          r"\boxed{\$5.4}", r"\boxed{54 \mbox{ cm}^2}", r"\boxed{5.40\, \text{cents}}"]),
        "thin": (r"10,\!080", [r"\boxed{10080}", r"\boxed{10,\! 080}", r"\boxed{10,080}", r"\boxed{10081}",
                                r"\boxed{10.08}"]),
        "short": (r"\frac 59", [r"\boxed{\frac{5}{9}}", r"\boxed{\dfrac59}", r"\boxed{\frac9{5}}", r"\boxed{5/9}"]),
        "assign": ("-4", [r"\boxed{x=-4}", r"\boxed{b = -4}", r"\boxed{x = 4}", r"\boxed{e = -4}",
                          r"\boxed{2x = -8}", r"\boxed{x = -4.0}", r"\boxed{y = \frac{-8}{2}}", r"\boxed{I = -4}"]),
        "symbols": ("6", [r"\boxed{x}", r"\boxed{PQ}", r"\boxed{m and n}", r"\boxed{p, r}", r"\boxed{e}",
                          r"\boxed{x/x}", r"\boxed{\pi}"]),
    }
    samples = make_samples(problems)
    fast_judge = MathJudge(to_config({}), checker=checker)
    fast = run(fast_judge, [dict(s) for s in samples])
    assert sum(s["meta"]["verdict"] == "fast" for s in fast) >= 60
    slow_checker = MathChecker(to_config({"workers": 1, "fast_path": False}))
    slow = run(MathJudge(to_config({"fast_path": False}), checker=slow_checker), samples)
    slow_checker.close()
    assert all(s["meta"]["verdict"] != "fast" for s in slow)
    diff = [(s["problem_id"], s["extracted"], f["correct"], s["correct"]) for f, s in zip(fast, slow)
            if f["correct"] != s["correct"]]
    assert not diff
    assert [s["correct"] for s in fast[:6]] == [True, False, True, True, False, False]


def test_hanging_input_is_killed_within_the_timeout():
    # sympy evaluates this power tower in C: math-verify's own signal timeout never fires
    judge = build_judge({"name": "math", "workers": 2, "timeout_s": 1.0})
    samples = make_samples({"p": ("1", [r"\boxed{9^{9^{9^{9}}}}", r"\boxed{1}", r"\boxed{1.0}"])})
    t0 = time.monotonic()
    out = run(judge, samples)
    elapsed = time.monotonic() - t0
    judge.close()
    assert [s["correct"] for s in out] == [False, True, True]
    assert out[0]["meta"]["verdict"] == "timeout"
    assert judge.stats["timeouts"] == 1
    assert elapsed < 20  # one timeout + worker start-up, not a hang


def test_tail_parse_verifies_its_pair_and_survives_a_hanging_verification():
    """An unmarked answer is parsed and its (gold, answer) verified in one worker task; when that
    verification hangs, the parse is redone alone, so the sample keeps its answer and only its
    verdict is the timeout."""
    judge = build_judge({"name": "math", "workers": 2, "timeout_s": 1.0})
    samples = make_samples({"hang": ("5", ["So we get $10^{10^{15}}$."]),
                            "ok": ("2e", [r"so the value is $e + e$.", r"so the value is $3e$ ."])})
    out = run(judge, samples)
    judge.close()
    assert [s["extracted"] for s in out] == ["10^{10^{15}}", "e + e", "3e"]
    assert [s["meta"]["verdict"] for s in out] == ["timeout", "verify", "verify"]
    assert [s["correct"] for s in out] == [False, True, False]
    assert judge.stats["preverified"] == 2 and judge.stats["verified"] == 2
    assert judge.stats["pool"]["items"] == 5  # 3 parse+verify, the hung one parsed again, then verified


def test_judging_from_a_thread():
    """math-verify's SIGALRM timeout breaks outside the main thread; the pool does not."""
    out = {}

    def work():
        j = build_judge({"name": "math", "workers": 1, "fast_path": False})
        out["res"] = [s["correct"] for s in j.judge(make_samples({"p": ("0.5", [r"\boxed{\frac12}", "2"])}))]
        j.close()

    t = threading.Thread(target=work)
    t.start()
    t.join(120)
    assert out["res"] == [True, False]


def test_second_checker_logs_disagreements(tmp_path, checker):
    log = tmp_path / "dis.jsonl"
    c = MathChecker(to_config({"workers": 1, "second_checker": "normalized",
                               "disagreements_path": str(log)}))
    judge = MathJudge(c.cfg, checker=c)
    # 2 sqrt(2) == sqrt(8) (fast path and math-verify agree); the string/rational checker cannot
    # tell, and e^{2} == e^2 goes to math-verify, which the string checker also misses
    out = run(judge, make_samples({"p": (r"2\sqrt{2}", [r"\boxed{\sqrt{8}}", r"\boxed{2\sqrt{2}}"] * 2),
                                   "q": ("e^{2}", [r"\boxed{e^2}"] * 3)}))
    judge.close()
    assert [s["correct"] for s in out] == [True] * 7
    assert out[0]["meta"]["second_correct"] is False
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert len(lines) == 2  # logged once per distinct (gold, answer)
    assert {(x["problem_id"], x["answer"], x["primary_how"]) for x in lines} == {
        ("p", r"\sqrt{8}", "fast"), ("q", "e^2", "verify")}
    assert all(x["primary"] is True and x["second"] is False for x in lines)
    assert judge.stats["disagreements"] == 2


def test_no_gold_and_no_answer():
    judge = build_judge({"name": "math", "workers": 1})
    out = run(judge, make_samples({"p": (None, [r"\boxed{1}"]), "q": ("1", ["no idea"])}))
    judge.close()
    assert [s["correct"] for s in out] == [False, False]
    assert out[0]["label_source"] == "none" and judge.stats["no_gold"] == 1
    assert out[1]["extracted"] is None and judge.stats["no_answer"] == 1


def test_too_long_answer_not_verified():
    judge = build_judge({"name": "math", "workers": 1, "extract": {"max_answer_chars": 50}})
    out = run(judge, make_samples({"p": ("1", ["\\boxed{" + "1+" * 100 + "1}"])}))
    judge.close()
    assert out[0]["correct"] is False and out[0]["meta"]["verdict"] == "too_long"


def test_streams_in_bounded_batches(checker):
    """The judge pulls at most two batches of problems ahead of what it has yielded (one being
    verified while the next is extracted)."""
    pulled = []

    def source():
        for s in make_samples({f"p{i}": ("1", [r"\boxed{1}"] * 4) for i in range(50)}):
            pulled.append(s["id"])
            yield s

    judge = MathJudge(to_config({"batch_size": 8}), checker=checker)
    gen = judge.judge(source())
    first = next(gen)
    assert first["id"] == "p0_0"
    assert len(pulled) <= 2 * 8 + 4  # two batches (whole problems) plus the next problem's first sample
    assert sum(1 for _ in gen) == 199


def test_unknown_second_checker_fails_early():
    with pytest.raises(ValueError, match="second_checker"):
        build_judge({"name": "math", "second_checker": "sympy2"})
