"""Faults a cluster run meets: a full disk, a judge worker that segfaults or is OOM-killed, and an
inference server that answers 500s, malformed JSON or nothing at all."""
from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rel_helpers import artifact_dirs, ids, rk_cmd
from rk_helpers import REPO

CRASHY = Path(__file__).parent / "crashy"

# ----------------------------------------------------------------------------- inference server


def _completion(text: str = "4") -> bytes:
    return json.dumps({"id": "c", "object": "text_completion", "created": 0, "model": "m",
                       "choices": [{"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}],
                       "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}).encode()


class FakeServer:
    """An OpenAI-compatible endpoint on 127.0.0.1 that misbehaves on purpose: each request takes
    the next fault from ``script`` (the last one repeats) and is counted."""

    def __init__(self, script: list[str]):
        self.script = script
        self.requests = 0
        self.release = threading.Event()  # lets silent handlers end when the test is over
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                mode = outer.script[min(outer.requests, len(outer.script) - 1)]
                outer.requests += 1
                if mode == "silent":  # accept, read the request, never answer
                    outer.release.wait(30)
                    return
                status, body, ctype = {
                    "500": (500, b'{"error": {"message": "internal error"}}', "application/json"),
                    "truncated": (200, _completion()[:25], "application/json"),  # cut mid-body
                    "html": (200, b"<html>502 Bad Gateway</html>", "text/html"),
                    "no_choices": (200, b'{"id": "c", "object": "text_completion"}', "application/json"),
                    "400": (400, b'{"error": {"message": "max_tokens too large"}}', "application/json"),
                    "ok": (200, _completion(), "application/json"),
                }[mode]
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake_server():
    servers = []

    def make(*script: str) -> FakeServer:
        servers.append(FakeServer(list(script)))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


def _engine(url: str, **server):
    from reasonkit.engines.openai import OpenAIEngine

    opts = {"urls": [url], "timeout": 1.0, "max_retries": 3, "backoff": 0.1, "backoff_max": 1.0, **server}
    return OpenAIEngine("m", {"server": opts, "sampling": {}})


def _generate(eng):
    from reasonkit.engines.base import GenRequest

    try:
        return eng.generate([GenRequest("What is 2+2?", ["p_0"], [7])], {"max_tokens": 4})
    finally:
        eng.close()


@pytest.mark.parametrize("fault", ["500", "truncated", "html", "no_choices", "silent"])
def test_server_fault_is_retried_with_backoff_then_fails_clearly(fake_server, fault, monkeypatch, caplog):
    from reasonkit.engines import openai as oa

    monkeypatch.setattr(oa.random, "random", lambda: 0.5)  # jitter factor 1.0: delays are exact
    srv = fake_server(fault)
    with caplog.at_level(logging.WARNING, logger="reasonkit.engines.openai"), pytest.raises(oa.EngineError) as err:
        _generate(_engine(srv.url, timeout=0.5))
    msg = str(err.value)
    assert "\n" not in msg and "failed after 4 attempts" in msg and srv.url in msg, msg
    assert srv.requests == 4  # one try + max_retries
    delays = [float(m) for m in re.findall(r"retrying in ([\d.]+)s", caplog.text)]
    assert delays == [0.1, 0.2, 0.4], delays  # doubling backoff from server.backoff


@pytest.mark.parametrize("fault", ["500", "truncated", "html", "no_choices", "silent"])
def test_server_fault_then_recovery_completes(fake_server, fault):
    srv = fake_server(fault, fault, "ok")
    eng = _engine(srv.url, timeout=0.5)
    out = _generate(eng)
    assert [c.text for c in out[0]] == ["4"]
    assert srv.requests == 3 and eng.stats["retries"] == 2


def test_client_error_is_not_retried(fake_server):
    """A 4xx means the request itself is wrong: retrying cannot help, so it fails at once."""
    from reasonkit.engines import openai as oa

    srv = fake_server("400")
    with pytest.raises(oa.EngineError, match="max_tokens too large"):
        _generate(_engine(srv.url))
    assert srv.requests == 1


# ----------------------------------------------------------------------------- judge workers

_JUDGE_DRIVER = r"""
import json, sys
from reasonkit.judging.config import JudgeConfig
from reasonkit.judging.mathcheck import MathChecker

if __name__ == "__main__":
    pairs = [tuple(p) for p in json.loads(sys.argv[1])]
    mc = MathChecker(JudgeConfig(workers=2, timeout_s=60))
    verdicts = mc.check(pairs)
    again = mc.check([("\\{5,6\\}", "\\{6,5\\}")])  # the pool still works afterwards
    print(json.dumps({"verdicts": [[v.correct, v.how] for v in verdicts], "again": [again[0].correct, again[0].how],
                      "pool": mc.pool.stats}))
    mc.close()
"""


def _judge(pairs: list[tuple[str, str]]) -> dict:
    env = {**os.environ, "RK_CRASHY_JUDGE": "1", "PYTHONPATH": os.pathsep.join([str(CRASHY), str(REPO)])}
    p = subprocess.run([sys.executable, "-c", _JUDGE_DRIVER, json.dumps(pairs)], check=False, capture_output=True, text=True,
                       env=env, cwd=REPO, timeout=300)  # a hang fails here, not forever
    assert p.returncode == 0, p.stderr[-4000:]
    return {**json.loads(p.stdout.strip().splitlines()[-1]), "stderr": p.stderr}


def test_judge_worker_segfault_and_oom_kill_mark_their_items_errored_and_the_rest_is_judged():
    # the gold answers below go past the fast path to math-verify in a pool worker; the crashy
    # sitecustomize makes the worker SIGSEGV / SIGKILL itself on the marked ones
    pairs = [("\\sin^2 x + \\cos^2 x", "1"), ("\\frac{SEGFAULT_ME}{2}", "3"), ("\\{1,2\\}", "\\{2,1\\}"),
             ("\\frac{OOM_KILL_ME}{3}", "4"), ("\\text{A} \\cup B", "B\\cup A"), ("\\frac{SEGFAULT_ME}{5}", "1"),
             ("\\{3,4\\}", "\\{4,3\\}")]
    out = _judge(pairs)
    how = [h for _, h in out["verdicts"]]
    assert how == ["verify", "error", "verify", "error", "verify", "error", "verify"], out
    assert [c for c, _ in out["verdicts"]] == [True, False, True, False, False, False, True], out
    assert out["pool"]["crashes"] == 3 and out["pool"]["respawns"] >= 3, out
    # said at the default log level, with the signal
    assert out["stderr"].count("died (killed by SIGSEGV)") == 2 and "died (killed by SIGKILL)" in out["stderr"]
    assert out["again"] == [True, "verify"]


def test_judge_every_worker_dying_is_still_not_a_hang():
    pairs = [(f"\\frac{{OOM_KILL_ME}}{{{i}}}", str(i)) for i in range(2, 12)]
    out = _judge(pairs)
    assert [h for _, h in out["verdicts"]] == ["error"] * 10 and out["pool"]["crashes"] == 10, out


# ----------------------------------------------------------------------------- disk full


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MiB tmpfs as the outputs folder, filled to ~40 KiB free by a ballast file."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the test machine's agents run as root)")
    mnt = tmp_path / "fs"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], check=True)
    try:
        st = os.statvfs(mnt)
        (mnt / "ballast").write_bytes(b"\0" * (st.f_bavail * st.f_frsize - 40 * 1024))
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.mark.slow
def test_disk_full_fails_clearly_marks_nothing_complete_and_rerun_completes(small_disk, tiny_models):
    out = small_disk / "outputs"
    over = ["debug=tiny", "pipeline=[format]"]
    p = subprocess.run(rk_cmd(out, *over), check=False, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert p.returncode == 1, (p.returncode, p.stderr[-4000:])  # not the user's mistake (2), no crash
    assert "Traceback" not in p.stderr, p.stderr[-4000:]  # one clear line, nothing buried
    err = p.stdout + p.stderr
    line = next((ln for ln in err.splitlines() if "no space left on device writing" in ln), None)
    assert line is not None, err[-4000:]
    assert "paths.outputs" in line and "rerun" in line, line  # says what to do
    assert re.search(r"writing \S+/artifacts/\w+/", line), line  # names the file
    root = out / "artifacts"
    assert not list(root.rglob("_SUCCESS")), "an artifact was marked complete on a full disk"
    # whole lines already written stay for the rerun to resume from (a torn last one is cut)
    kept = sum(f.read_bytes().count(b"\n") for f in root.glob("generate/*/part-*.jsonl.partial"))

    (small_disk / "ballast").unlink()  # space freed
    p2 = subprocess.run(rk_cmd(out, *over), check=False, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert p2.returncode == 0, (p2.stdout + p2.stderr)[-4000:]
    for st in ("generate", "judge", "select", "format"):
        (art,) = artifact_dirs(root, st)
        assert (art / "_SUCCESS").exists(), st
    gen = ids(artifact_dirs(root, "generate")[0])
    assert len(gen) == len(set(gen)) == 24 * 2
    m = json.loads((artifact_dirs(root, "generate")[0] / "manifest.json").read_text())["metrics"]
    assert m["resumed_from_disk"] == kept and m["generated_now"] == 24 * 2 - kept, (m, kept)
    print(f"\ndisk full: failed with {kept} records on disk; the rerun resumed them and generated the rest")
    assert ids(artifact_dirs(root, "judge")[0]) == gen
