"""Host side of the code sandbox: build the bubblewrap command, feed the runner, time it, compare.

Isolation (backend ``bwrap``): new network, pid, ipc and uts namespaces (no network at all, not
even the host's loopback); a read-only view of only the system and Python directories; a size-
capped tmpfs as the throwaway working dir; the environment cleared; the runner drops to an
unprivileged uid per concurrent slot (so RLIMIT_NPROC counts only that sandbox) and every test
runs in a forked child with rlimits on CPU, address space, processes, file size and open files.
The host kills the whole sandbox (bwrap's process group; the pid namespace takes every process in
it down) at the total deadline. Spawn time is excluded: deadlines start at the runner's "ready".
"""
from __future__ import annotations

import json
import logging
import math
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import SandboxConfig

log = logging.getLogger(__name__)

RUNNER = Path(__file__).with_name("sandbox_runner.py")
BOX = "/box"  # working dir inside the sandbox


class SandboxUnavailable(RuntimeError):
    pass


@dataclass
class TestSpec:
    """APPS/TACO ``input_output``: stdin/stdout tests, or call-based when ``fn_name`` is set."""

    inputs: list[Any]
    outputs: list[Any]
    fn_name: str | None = None

    @property
    def mode(self) -> str:
        return "call" if self.fn_name else "stdio"


def parse_tests(obj: Any, where: str = "tests") -> TestSpec:
    """Accepts the APPS/TACO dict or its JSON string; refuses anything else with a clear error."""
    if isinstance(obj, str):
        try:
            obj = json.loads(obj)
        except json.JSONDecodeError as e:
            raise ValueError(f"{where}: expected APPS/TACO tests as JSON "
                             f'{{"inputs": [...], "outputs": [...]}}, got malformed JSON ({e.msg})') from None
    if not isinstance(obj, dict) or not isinstance(obj.get("inputs"), list) \
            or not isinstance(obj.get("outputs"), list):
        raise ValueError(f'{where}: expected an object with list fields "inputs" and "outputs"')
    if len(obj["inputs"]) != len(obj["outputs"]):
        raise ValueError(f"{where}: {len(obj['inputs'])} inputs but {len(obj['outputs'])} outputs")
    if not obj["inputs"]:
        raise ValueError(f"{where}: no tests")
    fn = obj.get("fn_name")
    if fn is not None and not (isinstance(fn, str) and fn.isidentifier()):
        raise ValueError(f"{where}: field 'fn_name': expected an identifier, got {fn!r}")
    inputs = obj["inputs"]
    if not fn:
        inputs = ["\n".join(map(str, x)) + "\n" if isinstance(x, list) else str(x) for x in inputs]
    return TestSpec(inputs, obj["outputs"], fn or None)


# ----------------------------------------------------------------------------- comparison


def _floats_close(a: str, b: str) -> bool:
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    if math.isnan(x) or math.isnan(y):
        return False
    return abs(x - y) <= 1e-6 * max(1.0, abs(y))


def stdout_matches(got: str, expected: Any) -> bool:
    """APPS-style leniency: trailing whitespace and blank lines do not matter; tokens may differ
    in spacing; numbers match to 1e-6."""
    if isinstance(expected, list):
        expected = "\n".join(map(str, expected))
    expected = str(expected)
    if got == expected:
        return True
    g = [ln.rstrip() for ln in got.strip().splitlines()]
    e = [ln.rstrip() for ln in expected.strip().splitlines()]
    if g == e:
        return True
    gt, et = got.split(), expected.split()
    if gt == et:
        return True
    return len(gt) == len(et) and all(a == b or _floats_close(a, b) for a, b in zip(gt, et))


def _values_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or abs(a - b) <= 1e-6 * max(1.0, abs(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_values_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_values_equal(a[k], b[k]) for k in a)
    return a == b


def call_matches(got_json: str, expected: Any) -> bool:
    """A call-based result (JSON from the runner) vs the expected value; APPS often wraps the
    expected return value in a one-element list."""
    try:
        got = json.loads(got_json)
    except json.JSONDecodeError:
        return False
    if _values_equal(got, expected):
        return True
    return isinstance(expected, list) and len(expected) == 1 and _values_equal(got, expected[0])


# ----------------------------------------------------------------------------- running


@dataclass
class RunResult:
    passed: bool
    status: str  # passed | failed | timeout | crashed | sandbox_error | no_tests
    tests_passed: int = 0
    tests_run: int = 0
    tests_total: int = 0
    seconds: float = 0.0  # from ready to the end (test time, not spawn)
    spawn_seconds: float = 0.0
    detail: str = ""
    per_test: list[dict[str, Any]] = field(default_factory=list)


def _python_roots(python: str) -> list[str]:
    """Directories the interpreter needs: its venv (pyvenv.cfg) and its real installation."""
    roots = set()
    exe = Path(python)
    venv = exe.parent.parent
    if (venv / "pyvenv.cfg").exists():
        roots.add(str(venv))
    real = exe.resolve()
    roots.add(str(real.parent.parent))
    if python == sys.executable:
        roots.update({sys.prefix, sys.base_prefix, sys.exec_prefix})
    return sorted(r for r in roots if not r.startswith("/usr/") and r != "/usr")


def _kill_uid(uid: int) -> None:
    """SIGKILL every process of a sandbox-only uid (used as root without a pid namespace)."""
    for _ in range(3):
        found = False
        for p in Path("/proc").iterdir():
            if not p.name.isdigit():
                continue
            try:
                if p.stat().st_uid == uid:
                    os.kill(int(p.name), signal.SIGKILL)
                    found = True
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
        if not found:
            return
        time.sleep(0.01)


class Sandbox:
    def __init__(self, cfg: SandboxConfig) -> None:
        self.cfg = cfg
        self.python = cfg.python or sys.executable
        if cfg.backend == "bwrap":
            self.bwrap = shutil.which("bwrap")
            if self.bwrap is None:
                raise SandboxUnavailable(
                    "judge.code.backend=bwrap but bubblewrap is not installed: run "
                    "scripts/install_sandbox.sh (as root, Debian) or install the 'bubblewrap' package")
        elif cfg.backend == "none":
            log.warning("judge.code.backend=none: untrusted code runs with rlimits only, WITHOUT "
                        "network or filesystem isolation")
        else:
            raise ValueError(f"judge.code.backend: unknown {cfg.backend!r}; expected bwrap or none")
        self.is_root = os.geteuid() == 0

    def _bwrap_cmd(self) -> list[str]:
        c = self.cfg
        cmd = [self.bwrap, "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
               "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv",
               "--ro-bind", "/usr", "/usr"]
        for p in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            if os.path.islink(p):
                cmd += ["--symlink", os.readlink(p), p]
            elif os.path.isdir(p):
                cmd += ["--ro-bind", p, p]
        for p in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime", "/etc/alternatives"):
            cmd += ["--ro-bind-try", p, p]
        made: set[str] = set()
        for root in [*_python_roots(self.python), *c.ro_binds]:
            # bwrap creates missing mount-point parents 0700 (unreadable once the runner drops
            # root), so make them world-traversable first
            for anc in reversed(Path(root).parents[:-1] if len(Path(root).parents) > 1 else []):
                if str(anc) == "/usr" or str(anc).startswith("/usr/"):
                    continue  # already there, read-only
                if str(anc) not in made:
                    made.add(str(anc))
                    cmd += ["--perms", "0755", "--dir", str(anc)]
            cmd += ["--ro-bind", root, root]
        cmd += ["--ro-bind", str(RUNNER), "/runner.py",
                "--perms", "1777", "--size", str(c.workdir_mb * 1024 * 1024), "--tmpfs", BOX,
                "--dev", "/dev", "--proc", "/proc", "--chdir", BOX]
        if self.is_root:
            cmd += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        for k, v in self._env(BOX).items():
            cmd += ["--setenv", k, v]
        return cmd + [self.python, "-I", "/runner.py"]

    @staticmethod
    def _env(home: str) -> dict[str, str]:
        return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
                "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1",
                "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

    def run(self, code: str, tests: TestSpec, slot: int = 0) -> RunResult:
        c = self.cfg
        n = len(tests.inputs) if c.max_tests is None else min(len(tests.inputs), c.max_tests)
        if n == 0:
            return RunResult(False, "no_tests")
        spec = {"code": code, "mode": tests.mode, "fn_name": tests.fn_name,
                "inputs": tests.inputs[:n], "pidns": c.backend == "bwrap",
                "uid": c.uid_base + slot if self.is_root else None,
                "limits": {"cpu_s": math.ceil(c.test_timeout_s) + 1, "memory_mb": c.memory_mb,
                           "processes": c.max_processes, "file_mb": c.max_file_mb,
                           "output_kb": c.max_output_kb, "test_timeout_s": c.test_timeout_s}}
        tmp = None
        if c.backend == "bwrap":
            cmd, cwd, env = self._bwrap_cmd(), None, {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
            spec["workdir"] = BOX
        else:
            tmp = tempfile.mkdtemp(prefix="rk-sandbox-")
            os.chmod(tmp, 0o1777)
            cmd, cwd, env = [self.python, "-I", str(RUNNER)], tmp, self._env(tmp)
            spec["workdir"] = tmp
        try:
            return self._drive(cmd, cwd, env, spec, tests, n)
        finally:
            if spec["uid"] is not None and c.backend != "bwrap":
                _kill_uid(spec["uid"])  # no pid namespace: daemons that left the group remain
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)

    def _drive(self, cmd: list[str], cwd: str | None, env: dict[str, str], spec: dict[str, Any],
               tests: TestSpec, n: int) -> RunResult:
        c = self.cfg
        res = RunResult(False, "sandbox_error", tests_total=n)
        t_start = time.monotonic()
        with tempfile.TemporaryFile() as errf:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errf,
                                    cwd=cwd, env=env, start_new_session=True, close_fds=True)
            try:
                try:
                    proc.stdin.write(json.dumps(spec).encode())
                    proc.stdin.close()
                except (BrokenPipeError, OSError):
                    pass
                self._collect(proc, res, tests, n, t_start)
            finally:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                proc.wait()
                proc.stdout.close()
            if res.status == "sandbox_error" and not res.detail:
                errf.seek(0)
                res.detail = errf.read(2000).decode("utf-8", "replace").strip() or \
                    f"sandbox exited with {proc.returncode} before any result"
        return res

    def _collect(self, proc: subprocess.Popen, res: RunResult, tests: TestSpec, n: int,
                 t_start: float) -> None:
        c = self.cfg
        sel = selectors.DefaultSelector()
        fd = proc.stdout.fileno()
        sel.register(fd, selectors.EVENT_READ)
        buf = b""
        ready_at: float | None = None
        deadline = t_start + c.spawn_timeout_s
        seen: set[int] = set()
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    if ready_at is None:
                        res.status, res.detail = "sandbox_error", f"sandbox not ready after {c.spawn_timeout_s}s"
                    else:
                        res.status, res.detail = "timeout", f"total time over {c.total_timeout_s}s"
                    return
                if not sel.select(left):
                    continue
                chunk = os.read(fd, 1 << 16)
                if not chunk:  # runner gone: finished, or killed by the solution
                    if ready_at is not None and res.tests_run < n and res.status != "failed":
                        res.status = "crashed"
                        res.detail = f"sandbox ended after {res.tests_run}/{n} tests"
                    return
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    try:
                        msg = json.loads(line)
                    except json.JSONDecodeError:
                        msg = {}
                    if not isinstance(msg, dict):
                        msg = {}
                    if ready_at is None:
                        if not msg.get("ready"):
                            res.detail = f"unexpected first message from runner: {line[:200]!r}"
                            return
                        ready_at = time.monotonic()
                        res.spawn_seconds = ready_at - t_start
                        deadline = ready_at + c.total_timeout_s
                        res.status = "running"
                        continue
                    i = msg.get("i")
                    if not isinstance(i, int) or i in seen or not 0 <= i < n:
                        continue
                    seen.add(i)
                    ok = self._check(msg, tests, i)
                    res.tests_run += 1
                    res.tests_passed += ok
                    res.seconds = time.monotonic() - ready_at
                    res.per_test.append({"i": i, "status": msg.get("status"), "passed": ok,
                                         "seconds": msg.get("seconds")})
                    if not ok and res.status != "failed":
                        res.status = "failed"
                        res.detail = self._describe(msg)
                        if c.stop_on_fail:
                            return
                    if res.tests_run == n:
                        if res.status == "running":
                            res.status, res.passed = "passed", True
                        return
        finally:
            sel.close()
            if ready_at is not None:
                res.seconds = time.monotonic() - ready_at

    @staticmethod
    def _check(msg: dict[str, Any], tests: TestSpec, i: int) -> bool:
        if msg.get("status") != "ok" or msg.get("truncated"):
            return False
        if tests.mode == "call":
            return call_matches(msg.get("stdout", ""), tests.outputs[i])
        return stdout_matches(msg.get("stdout", ""), tests.outputs[i])

    @staticmethod
    def _describe(msg: dict[str, Any]) -> str:
        st = msg.get("status")
        if st == "ok":
            return f"test {msg['i']}: wrong output"
        if st == "timeout":
            return f"test {msg['i']}: time limit ({msg.get('seconds')}s)"
        if st == "signal":
            return f"test {msg['i']}: killed by signal {msg.get('signal')}"
        tail = (msg.get("stderr") or "").strip().splitlines()[-1:] or [""]
        return f"test {msg['i']}: exit {msg.get('exit')} {tail[0][:200]}"
