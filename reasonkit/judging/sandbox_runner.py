"""Runs inside the sandbox (stdlib only, started as ``python -I sandbox_runner.py``).

Reads one JSON spec on stdin, drops to the sandbox uid, says ``ready`` (everything before that is
spawn time, not charged to any test), then runs each test in a freshly forked child under rlimits
and reports one JSON line per test on stdout. It never sees expected outputs: the host compares,
so a solution that tampers with this process can at worst fail its own tests.
"""
import ctypes
import io
import json
import os
import resource
import select
import signal
import sys
import time
import traceback


def _nondumpable():
    """Children share our uid; without this they could open /proc/<runner>/fd/1 and forge result
    lines, or ptrace us."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0
    except (OSError, AttributeError):
        pass


def _emit(obj):
    os.write(1, (json.dumps(obj) + "\n").encode())


def _limits(lim):
    cpu = int(lim["cpu_s"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    mem = int(lim["memory_mb"]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_NPROC, (int(lim["processes"]), int(lim["processes"])))
    fsize = int(lim["file_mb"]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


def _child(spec, i, inp_path, out_path, err_path):
    """In the forked child: redirect stdio, apply limits, run the solution. Never returns."""
    code = 1
    try:
        os.setpgid(0, 0)
        fd_in = os.open(inp_path, os.O_RDONLY)
        fd_out = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        fd_err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd_in, 0)
        os.dup2(fd_out, 1)
        os.dup2(fd_err, 2)
        for fd in (fd_in, fd_out, fd_err):
            os.close(fd)
        sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)))
        sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)))
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), write_through=True)
        _limits(spec["limits"])
        sys.argv = ["solution.py"]
        glb = {"__name__": "__main__", "__builtins__": __builtins__}
        compiled = compile(spec["code"], "solution.py", "exec")
        if spec["mode"] == "call":
            glb["__name__"] = "solution"
            exec(compiled, glb)
            fn_name = spec["fn_name"]
            if "Solution" in glb and hasattr(glb["Solution"], fn_name):
                fn = getattr(glb["Solution"](), fn_name)
            else:
                fn = glb[fn_name]
            args = spec["inputs"][i]
            result = fn(*args) if isinstance(args, list) else fn(args)
            if isinstance(result, tuple):
                result = list(result)
            try:
                text = json.dumps(result)
            except (TypeError, ValueError):
                text = json.dumps(repr(result))
            sys.stdout.write(text)
        else:
            exec(compiled, glb)
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # noqa: BLE001 - the solution's failure is its test's verdict
        try:
            traceback.print_exc()
        except BaseException:  # noqa: BLE001
            pass
        code = 1
    try:
        sys.stdout.flush()
    except BaseException:  # noqa: BLE001
        code = code or 1
    os._exit(code & 0xFF)


def _wait(pid, timeout):
    """(status, seconds) of child ``pid``; kills its process group past ``timeout``."""
    t0 = time.monotonic()
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    deadline = t0 + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status, time.monotonic() - t0
        left = deadline - time.monotonic()
        if left <= 0:
            for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
                try:
                    target()
                except OSError:
                    pass
            os.waitpid(pid, 0)
            return None, time.monotonic() - t0
        if pidfd is not None:
            select.select([pidfd], [], [], left)
        else:
            time.sleep(min(left, 0.005))


def _sweep(spec):
    """Kill whatever a test left behind (daemons, fork bomb survivors that left its process
    group). ``kill(-1)`` reaches every process we may signal: only safe, and only used, inside our
    own pid namespace under an unprivileged uid."""
    if spec.get("pidns") and os.getuid() != 0:
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break


def _read(path, limit):
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError:
        return "", False
    return data[:limit].decode("utf-8", "replace"), len(data) > limit


def main():
    spec = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    uid = spec.get("uid")
    if uid is not None and os.getuid() == 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    _nondumpable()
    os.chdir(spec["workdir"])
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # host gone: die quietly
    _emit({"ready": True, "uid": os.getuid(), "pid": os.getpid()})
    lim = spec["limits"]
    out_limit = int(lim["output_kb"]) * 1024
    for i in range(len(spec["inputs"])):
        inp, out, err = f"in{i}.txt", f"out{i}.txt", f"err{i}.txt"
        with open(inp, "w", encoding="utf-8") as fh:
            fh.write(spec["inputs"][i] if spec["mode"] == "stdio" else "")
        pid = os.fork()
        if pid == 0:
            _child(spec, i, inp, out, err)
        try:
            os.setpgid(pid, pid)  # also done by the child; whichever runs first wins the race
        except OSError:
            pass
        status, seconds = _wait(pid, float(lim["test_timeout_s"]))
        _sweep(spec)
        stdout, truncated = _read(out, out_limit)
        stderr, _ = _read(err, 4096)
        res = {"i": i, "seconds": round(seconds, 4), "stdout": stdout, "truncated": truncated,
               "stderr": stderr[-1000:]}
        if status is None:
            res.update(status="timeout")
        elif os.WIFSIGNALED(status):
            res.update(status="signal", signal=os.WTERMSIG(status))
        else:
            code = os.WEXITSTATUS(status)
            res.update(status="ok" if code == 0 else "exit", exit=code)
        for p in (inp, out, err):
            try:
                os.unlink(p)
            except OSError:
                pass
        _emit(res)


if __name__ == "__main__":
    main()
