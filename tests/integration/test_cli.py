"""The console script itself: help, printed config, config errors before work."""
import subprocess
import sys

from rk_helpers import REPO


def rk(*args):
    return subprocess.run([sys.executable, "-m", "reasonkit", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=120)


def test_help_lists_groups_and_options():
    out = rk("--help").stdout
    for line in ("dataset: gsm8k, jsonl, toy", "judge:", "sampler:", "selection:", "trainer:", "eval:",
                 "model: local, qwen2.5_1.5b_instruct, toy_student, toy_teacher", "experiment/toy_distill:"):
        assert line in out, line


def test_cfg_job_prints_resolved_config_and_runs_nothing(tmp_path):
    p = rk("--cfg", "job", "--resolve", f"paths.outputs={tmp_path}", "experiment=toy_distill/one_per_problem")
    assert p.returncode == 0
    assert "max_per_problem: 1" in p.stdout and f"artifacts: {tmp_path}/artifacts" in p.stdout
    assert not (tmp_path / "artifacts").exists()


def test_unknown_key_names_it(tmp_path):
    p = rk(f"paths.outputs={tmp_path}", "sampler.temprature=0.5")
    assert p.returncode != 0 and "Key 'temprature' not in 'SamplerConfig'" in p.stderr
    assert not (tmp_path / "artifacts").exists()
