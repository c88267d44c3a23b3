"""Fast checks of the engine helpers that need no running engine."""
from __future__ import annotations

import sys
import time

import pytest

from reasonkit.engines.common import apply_think, check_engine_owned, think_mode
from reasonkit.engines.server import ServerError, VLLMServer, cli_args, free_port, gpu_groups


@pytest.mark.parametrize("text,mode,answer,extra", [
    ("<think>a+b</think> 5", "keep", "<think>a+b</think> 5", {}),
    ("<think>a+b</think> 5", "strip", "5", {"think_closed": True}),
    ("<think>a+b</think> 5", "split", "5", {"think_closed": True, "reasoning": "a+b"}),
    # the prompt ended with <think>: only the closing tag is in the response
    ("a+b\n</think>\n5", "split", "5", {"think_closed": True, "reasoning": "a+b"}),
    ("<think>still going", "split", "", {"think_closed": False, "reasoning": "still going"}),
    ("no tags", "strip", "", {"think_closed": False}),
])
def test_apply_think(text, mode, answer, extra):
    assert apply_think(text, mode) == (answer, extra)


def test_think_mode_rejects_typos():
    assert think_mode({"think": None}) == "keep"
    with pytest.raises(ValueError, match="sampler.think"):
        think_mode({"think": "split_it"})


def test_engine_owned_sampling_fields_are_refused():
    check_engine_owned({"temperature": 0.7})
    with pytest.raises(ValueError, match=r"\['seed'\].*sampler.seed"):
        check_engine_owned({"seed": 3})


def test_cli_args():
    assert cli_args({"max_model_len": 256, "enforce_eager": True, "enable_prefix_caching": False,
                     "served_model_name": ["a", "b"], "compilation_config": {"level": 0}, "quantization": None}) == [
        "--max-model-len", "256", "--enforce-eager", "--no-enable-prefix-caching",
        "--served-model-name", "a", "b", "--compilation-config", '{"level": 0}']
    assert cli_args(["--foo", 1]) == ["--foo", "1"]


def test_gpu_groups():
    assert gpu_groups({}) == [None]
    assert gpu_groups({"num_servers": 2, "gpus_per_server": 2}) == [[0, 1], [2, 3]]
    assert gpu_groups({"gpu_groups": [[3], [1]]}) == [[3], [1]]


def test_server_env_gets_its_gpus_and_cpu_defaults(monkeypatch):
    monkeypatch.delenv("VLLM_CPU_KVCACHE_SPACE", raising=False)
    env = VLLMServer("m", gpus=[2, 3], env={"X": "1"}).environment()
    assert env["CUDA_VISIBLE_DEVICES"] == "2,3" and env["X"] == "1"
    import torch

    if not torch.cuda.is_available():
        assert env["VLLM_CPU_KVCACHE_SPACE"] == "1"


def test_server_that_exits_at_start_is_reported_with_its_log(tmp_path):
    cmd = [sys.executable, "-c", "import sys; print('boom: no such model'); sys.exit(3)"]
    srv = VLLMServer("m", command=cmd, log_path=tmp_path / "s.log").start()
    t0 = time.monotonic()
    with pytest.raises(ServerError, match=r"exited with code 3(.|\n)*boom: no such model"):
        srv.wait_ready(timeout=60)
    assert time.monotonic() - t0 < 10


def test_server_that_never_answers_is_killed_at_the_deadline(tmp_path):
    # a child that ignores SIGTERM and never listens: stop() must escalate to SIGKILL
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
    srv = VLLMServer("m", port=free_port(), command=[sys.executable, "-c", code], log_path=tmp_path / "s.log")
    srv.start()
    pid = srv.pid
    t0 = time.monotonic()
    with pytest.raises(ServerError, match="not healthy after 2s"):
        srv.wait_ready(timeout=2)
    import os

    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert srv.proc is None and time.monotonic() - t0 < 30
