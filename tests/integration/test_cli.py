"""The console script itself: help, printed config, config errors before work."""
import subprocess
import sys

from rk_helpers import REPO


def rk(*args):
    return subprocess.run([sys.executable, "-m", "reasonkit", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=120)


def _help_listing(out: str) -> dict[str, dict[str, str]]:
    """``group:`` headings, each followed by ``  option  description`` lines, as {group: {option: text}}."""
    groups: dict[str, dict[str, str]] = {}
    current = None
    for line in out.splitlines():
        if line.endswith(":") and not line.startswith(" "):
            current = groups.setdefault(line[:-1], {})
        elif current is not None and line.startswith("  ") and line.strip():
            name, _, text = line.strip().partition("  ")
            current[name] = text.strip()
        elif not line.strip():
            current = None
    return groups


def test_help_lists_groups_and_options():
    """Every option file of the main groups is listed under its group, nested experiment presets by
    their path, each with its YAML's first comment (read here from the files, not by reasonkit.help)."""
    p = rk("--help")
    assert p.returncode == 0, p.stderr
    listing = _help_listing(p.stdout)
    conf = REPO / "conf"
    for group in ("dataset", "judge", "sampler", "selection", "trainer", "eval", "model"):
        assert set(listing.get(group, {})) == {f.stem for f in (conf / group).glob("*.yaml")}, group
    assert {"local", "qwen2.5_1.5b_instruct", "toy_student", "toy_teacher"} <= set(listing["model"])
    assert "toy_distill/one_per_problem" in listing["experiment"]
    first_comment = next(line.lstrip("#").strip() for line in (conf / "dataset" / "toy.yaml").read_text().splitlines()
                         if line.startswith("#") and not line.startswith("# @package"))
    assert listing["dataset"]["toy"] == first_comment


def test_cfg_job_prints_resolved_config_and_runs_nothing(tmp_path):
    p = rk("--cfg", "job", "--resolve", f"paths.outputs={tmp_path}", "experiment=toy_distill/one_per_problem")
    assert p.returncode == 0
    assert "max_per_problem: 1" in p.stdout and f"artifacts: {tmp_path}/artifacts" in p.stdout
    assert not (tmp_path / "artifacts").exists()


def test_unknown_key_names_it(tmp_path):
    p = rk(f"paths.outputs={tmp_path}", "sampler.temprature=0.5")
    assert p.returncode != 0 and "Key 'temprature' not in 'SamplerConfig'" in p.stderr
    assert not (tmp_path / "artifacts").exists()
