"""judge=code: APPS/TACO tests in the bubblewrap sandbox, and attacks that must stay contained.

Real sandbox, real processes: each test starts bwrap (scripts/install_sandbox.sh installs it).
"""
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from reasonkit.judging import JudgeInputError, build_judge
from reasonkit.judging.config import SandboxConfig
from reasonkit.judging.sandbox import Sandbox, call_matches, parse_tests, stdout_matches

ADD = parse_tests({"inputs": ["1 2\n", "10 -3\n"], "outputs": ["3\n", "7\n"]})
GOOD = "a, b = map(int, input().split())\nprint(a + b)\n"


def fast_cfg(**kw) -> SandboxConfig:
    base = dict(test_timeout_s=1.5, total_timeout_s=10.0, memory_mb=256, max_processes=8)
    base.update(kw)
    return SandboxConfig(**base)


@pytest.fixture
def sandbox(bwrap):
    return Sandbox(fast_cfg())


def sandbox_procs(uid_base: int = 61000, slots: int = 64, wait_s: float = 3.0) -> list[int]:
    """Processes on the host still alive (not zombies) under a sandbox uid, after giving killed
    ones ``wait_s`` to exit."""
    deadline = time.monotonic() + wait_s
    while True:
        pids = []
        for p in Path("/proc").iterdir():
            if p.name.isdigit():
                try:
                    uid = p.stat().st_uid
                    state = (p / "stat").read_text().rsplit(")", 1)[1].split()[0]
                except (FileNotFoundError, ProcessLookupError, IndexError):
                    continue
                if uid_base <= uid < uid_base + slots and state != "Z":
                    pids.append(int(p.name))
        if not pids or time.monotonic() > deadline:
            return pids
        time.sleep(0.05)


def test_output_comparison_rules():
    assert stdout_matches("3\n", "3")
    assert stdout_matches("1 2 \n3\n\n", "1 2\n3")
    assert stdout_matches("0.3333333", "0.33333333")
    assert not stdout_matches("4\n", "3\n")
    assert not stdout_matches("", "3")
    assert call_matches("[1, 2]", [1, 2]) and call_matches("5", [5]) and not call_matches("5", 6)
    assert not call_matches("true", 1)


def test_bad_tests_refused_with_field_named():
    with pytest.raises(ValueError, match="2 inputs but 1 outputs"):
        parse_tests({"inputs": ["1", "2"], "outputs": ["1"]})
    with pytest.raises(ValueError, match="malformed JSON"):
        parse_tests("{not json")
    judge_cfg = {"name": "code", "workers": 1}
    with pytest.raises(JudgeInputError, match="field 'answer'"):
        judge = build_judge(judge_cfg)
        list(judge.judge([{"id": "p_0", "problem_id": "p", "answer": '{"inputs": [1]}', "response": "x"}]))


def test_stdio_pass_fail_and_timing(sandbox):
    ok = sandbox.run(GOOD, ADD)
    assert ok.passed and ok.status == "passed" and ok.tests_passed == 2
    assert ok.spawn_seconds > 0 and all(t["seconds"] < 1.0 for t in ok.per_test)
    wrong = sandbox.run("print(3)\n", ADD)
    assert not wrong.passed and wrong.status == "failed" and wrong.tests_passed == 1
    err = sandbox.run("raise SystemExit(2)\n", ADD)
    assert not err.passed and "exit 2" in err.detail


def test_call_based(sandbox):
    tests = parse_tests({"fn_name": "twoSum", "inputs": [[[2, 7, 11], 9], [[3, 3], 6]],
                         "outputs": [[[0, 1]], [0, 1]]})
    cls = ("class Solution:\n    def twoSum(self, nums, target):\n"
           "        seen = {}\n        for i, x in enumerate(nums):\n"
           "            if target - x in seen:\n                return [seen[target - x], i]\n"
           "            seen[x] = i\n")
    assert sandbox.run(cls, tests).passed
    func = "def twoSum(nums, target):\n    return (0, 1)\n"
    assert sandbox.run(func, tests).passed  # tuples compare as lists
    assert not sandbox.run("def twoSum(nums, target):\n    return [1, 0]\n", tests).passed


def test_spawn_time_is_not_charged(bwrap, tmp_path):
    """An interpreter that takes 3 s to start (a wrapper that sleeps) still passes 1 s per-test
    and 2 s total limits: deadlines start when the runner is ready."""
    wrapper = tmp_path / "bin" / "python"
    wrapper.parent.mkdir()
    wrapper.write_text(f"#!/bin/sh\nsleep 3\nexec {sys.executable} \"$@\"\n")
    wrapper.chmod(0o755)
    os.chmod(tmp_path, 0o755)
    cfg = fast_cfg(python=str(wrapper), test_timeout_s=1.0, total_timeout_s=2.0,
                   ro_binds=[sys.prefix, sys.base_prefix])
    res = Sandbox(cfg).run(GOOD, ADD)
    assert res.passed, res.detail
    assert res.spawn_seconds >= 3.0 and res.seconds < 2.0


def test_judge_code_end_to_end(bwrap):
    tests = '{"inputs": ["1 2\\n", "10 -3\\n"], "outputs": ["3\\n", "7\\n"]}'
    responses = [
        "<think>```python\nprint(0)\n```</think>Solution:\n```python\n" + GOOD + "```",
        "```python\nprint(3)\n```",
        "no code at all",
        "```python\n" + GOOD + "```",  # same program as the first: run once
    ]
    samples = [{"id": f"p_{k}", "problem_id": "p", "k": k, "answer": tests, "response": r}
               for k, r in enumerate(responses)]
    judge = build_judge({"name": "code", "workers": 2, "code": dict(test_timeout_s=2.0, memory_mb=256)})
    out = list(judge.judge(samples))
    judge.close()
    assert [s["correct"] for s in out] == [True, False, False, True]
    assert out[0]["meta"]["tests_passed"] == 2 and out[2]["meta"]["code_status"] == "no_code"
    assert judge.stats["runs"] == 2 and judge.stats["cache_hits"] == 1
    assert all(s["judge"].startswith("code@") for s in out)


# ----------------------------------------------------------------------------- adversarial


def _contained(sandbox, code, tests=ADD, limit=8.0):
    t0 = time.monotonic()
    res = sandbox.run(code, tests)
    elapsed = time.monotonic() - t0
    assert not res.passed, res
    assert elapsed < limit, elapsed
    assert sandbox_procs() == [], "sandbox processes survived the run"
    return res


def test_fork_bomb(sandbox):
    res = _contained(sandbox, "import os\nwhile True:\n    try:\n        os.fork()\n"
                              "    except OSError:\n        pass\n")
    assert res.status in ("failed", "crashed")


def test_memory_bomb(sandbox):
    res = _contained(sandbox, "x = []\nwhile True:\n    x.append(b'x' * 10**7)\n")
    assert "MemoryError" in res.detail or "signal" in res.detail


def test_infinite_loop(sandbox):
    res = _contained(sandbox, "while True:\n    pass\n")
    assert "time limit" in res.detail


def test_writing_outside_the_work_dir(sandbox, tmp_path):
    os.chmod(tmp_path, 0o1777)  # world-writable on the host: only isolation can stop the write
    targets = [tmp_path / "escaped.txt", Path("/tmp/rk_escape.txt"), Path(__file__).parent / "x.txt"]
    code = ("import os\nwrote = []\n"
            f"for p in {[str(t) for t in targets] + ['/box/../escape.txt']!r}:\n"
            "    try:\n        open(p, 'w').write('pwned')\n        wrote.append(p)\n"
            "    except OSError:\n        pass\n"
            "a, b = map(int, input().split())\nprint(a + b if wrote else 'blocked')\n")
    # the program prints the right answer only if one of its writes escaped
    res = _contained(sandbox, code)
    assert res.status == "failed"
    assert not any(t.exists() for t in targets)
    # and writing more than the file-size limit inside the work dir fails the test
    _contained(sandbox, "open('big', 'wb').write(b'x' * (64 * 2**20))\nprint(3)\n")


def test_no_network_even_to_the_hosts_loopback(sandbox):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(0.2)
    port = srv.getsockname()[1]
    code = ("import socket\ntry:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
            "    print(3)\nexcept OSError:\n    print('blocked')\n")
    res = _contained(sandbox, code)
    assert res.status == "failed"
    with pytest.raises(socket.timeout):
        srv.accept()
    srv.close()


def test_killing_the_parent(sandbox):
    res = _contained(sandbox, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nprint(3)\n")
    assert res.status == "crashed"
    _contained(sandbox, "import os, signal\nos.kill(-1, signal.SIGKILL)\nprint(3)\n")
    # the host's pids are not even visible: killing ours by number reaches nothing
    code = (f"import os, signal\ntry:\n    os.kill({os.getpid()}, signal.SIGKILL)\n"
            "except OSError:\n    pass\nprint(3)\n")
    _contained(sandbox, code)


def test_cannot_forge_results_through_proc(sandbox):
    """A child that prints the right answer, forges a passing result line into the runner's
    pipe and then overruns the time limit must still fail."""
    code = ("import os, json\na, b = map(int, input().split())\n"
            "i = int(next(f for f in os.listdir('.') if f.startswith('in'))[2:-4])  # this test\n"
            "line = json.dumps({'i': i, 'status': 'ok', 'stdout': str(a + b) + '\\n', 'seconds': 0})\n"
            "try:\n    with open(f'/proc/{os.getppid()}/fd/1', 'w') as fh:\n"
            "        fh.write(line + '\\n')\nexcept OSError:\n    pass\n"
            "print(a + b, flush=True)\nwhile True:\n    pass\n")
    res = _contained(sandbox, code)
    assert "time limit" in res.detail


def test_environment_is_cleared(sandbox, monkeypatch):
    monkeypatch.setenv("RK_SECRET_TOKEN", "hunter2")
    code = ("import os\na, b = map(int, input().split())\n"
            "print('leak' if 'RK_SECRET_TOKEN' in os.environ else a + b)\n")
    assert sandbox.run(code, ADD).passed


def test_concurrent_sandboxes_use_separate_uids(bwrap):
    if os.geteuid() != 0:
        pytest.skip("per-slot uids are only used when started as root")
    sb = Sandbox(fast_cfg())
    code = "import os\nprint(os.getuid() - 61000)\n"
    tests = parse_tests({"inputs": [""], "outputs": ["3"]})
    results = {}

    def go(slot):
        results[slot] = sb.run(code, tests, slot=slot).passed

    threads = [threading.Thread(target=go, args=(s,)) for s in (2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == {2: False, 3: True}


def test_backend_none_still_limits_time_and_cleans_up(tmp_path):
    sb = Sandbox(fast_cfg(backend="none"))
    assert sb.run(GOOD, ADD).passed
    res = sb.run("while True:\n    pass\n", ADD)
    assert not res.passed and "time limit" in res.detail
    if os.geteuid() == 0:  # runs under a sandbox uid: a daemon that left its group is killed too
        daemon = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\nprint(3)\n"
        sb.run(daemon, ADD)
        assert sandbox_procs() == []


UNPRIVILEGED_SCRIPT = """
import json, os, sys
sys.path.insert(0, {repo!r})
from reasonkit.judging.config import SandboxConfig
from reasonkit.judging.sandbox import Sandbox, parse_tests
sb = Sandbox(SandboxConfig(python=sys.executable, test_timeout_s=1.5, memory_mb=256, max_processes=8))
tests = parse_tests({{"inputs": ["1 2\\n", "10 -3\\n"], "outputs": ["3\\n", "7\\n"]}})
good = sb.run({good!r}, tests)
forged = sb.run({forge!r}, tests)
print(json.dumps({{"uid": os.getuid(), "good": good.passed, "forged": forged.passed, "detail": forged.detail}}))
"""


def test_unprivileged_host_cannot_forge_results(bwrap):
    """Started by a normal user, the runner shares the solution's uid (no uid switch): only its
    PR_SET_DUMPABLE=0 keeps a solution from writing a passing line into the runner's pipe via
    /proc and then overrunning its time limit. Run that case for real as an unprivileged uid."""
    import shutil
    import subprocess

    forge = ("import os, json\na, b = map(int, input().split())\n"
             "i = int(next(f for f in os.listdir('.') if f.startswith('in'))[2:-4])\n"
             "line = json.dumps({'i': i, 'status': 'ok', 'stdout': str(a + b) + '\\n', 'seconds': 0})\n"
             "try:\n    with open(f'/proc/{os.getppid()}/fd/1', 'w') as fh:\n        fh.write(line + '\\n')\n"
             "except OSError:\n    pass\nprint(a + b, flush=True)\nwhile True:\n    pass\n")
    script = UNPRIVILEGED_SCRIPT.format(repo=str(Path(__file__).resolve().parents[2]), good=GOOD, forge=forge)
    if os.geteuid() == 0:
        python = "/usr/bin/python3"  # an interpreter outside /root, executable by any uid
        if not (os.access(python, os.X_OK) and shutil.which("setpriv")):
            pytest.skip("needs /usr/bin/python3 and setpriv to run as an unprivileged uid")
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", python, "-"]
    else:
        cmd = [sys.executable, "-"]
    out = subprocess.run(cmd, input=script, capture_output=True, text=True, timeout=120, cwd="/")
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["uid"] != 0 and res["good"] is True
    assert res["forged"] is False and "time limit" in res["detail"]
