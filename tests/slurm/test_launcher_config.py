"""The launcher options compose with the real reasonkit config, take their resources from a
cluster profile, and turn into the sbatch script SLURM would get. No cluster needed (these run on a
machine where SLURM was never installed): the script text is what submitit itself writes before
calling sbatch."""
from __future__ import annotations

import pytest
from hydra._internal.hydra import Hydra
from hydra._internal.utils import create_config_search_path
from hydra.types import RunMode
from omegaconf import OmegaConf

from reasonkit.config import CONF_DIR, register

PROFILE = """\
slurm:
  partition: cpu-short
  gpu_partition: a100
  account: proj-42
  qos: high
  constraint: null
  exclude: null
  timeout_min: 90
  cpus_per_task: 2
  mem_gb: 8
  gpus_per_job: 2
  cpus_per_gpu: 6
  mem_per_gpu: 40G
  gpus_per_node: 4
  cpus_per_node: 48
  array_parallelism: 5
  max_num_timeout: 2
  signal_delay_s: 100
  setup: ["module load cuda/12.4", "export HF_HOME=/scratch/hf"]
  additional_parameters: {reservation: big}
"""


@pytest.fixture(scope="module")
def hydra():
    register()
    return Hydra.create_main_hydra2(task_name="reasonkit", config_search_path=create_config_search_path(str(CONF_DIR)))


@pytest.fixture
def profile_dir(tmp_path):
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "testcluster.yaml").write_text(PROFILE)
    return tmp_path


def compose(hydra, *overrides: str):
    return hydra.compose_config("config", overrides=list(overrides), run_mode=RunMode.MULTIRUN,
                                with_log_configuration=False)


@pytest.mark.parametrize("launcher,mode", [("basic", None), ("local", None), ("slurm_cpu", RunMode.MULTIRUN),
                                           ("slurm_gpu", RunMode.MULTIRUN), ("slurm_node", RunMode.MULTIRUN)])
def test_slurm_launchers_submit_without_dash_m(hydra, launcher, mode):
    assert hydra.get_mode(config_name="config", overrides=[f"hydra/launcher={launcher}"]) == mode


def sbatch_text(cfg) -> str:
    from hydra_plugins.reasonkit_launcher import SlurmLauncher

    params = OmegaConf.to_container(cfg.hydra.launcher, resolve=True)
    params.pop("_target_")
    params["submitit_folder"] = "/tmp/rk-sbatch-text/%j"
    return SlurmLauncher(**params).sbatch_text("python -m submitit.core._submit x")


def test_profile_values_reach_the_cpu_sbatch_script(hydra, profile_dir):
    cfg = compose(hydra, f"hydra.searchpath=[file://{profile_dir}]", "local=testcluster", "hydra/launcher=slurm_cpu")
    text = sbatch_text(cfg)
    for line in ["#SBATCH --partition=cpu-short", "#SBATCH --account=proj-42", "#SBATCH --qos=high",
                 "#SBATCH --time=90", "#SBATCH --cpus-per-task=2", "#SBATCH --mem=8GB",
                 "#SBATCH --signal=USR2@100", "#SBATCH --reservation=big",
                 "module load cuda/12.4", "export HF_HOME=/scratch/hf"]:
        assert line in text, (line, text)
    assert "--gpus" not in text


def test_profile_values_reach_the_gpu_and_node_sbatch_scripts(hydra, profile_dir):
    gpu = sbatch_text(compose(hydra, f"hydra.searchpath=[file://{profile_dir}]", "local=testcluster",
                              "hydra/launcher=slurm_gpu"))
    for line in ["#SBATCH --partition=a100", "#SBATCH --gpus-per-task=2", "#SBATCH --cpus-per-gpu=6",
                 "#SBATCH --mem-per-gpu=40G"]:
        assert line in gpu, (line, gpu)
    node = sbatch_text(compose(hydra, f"hydra.searchpath=[file://{profile_dir}]", "local=testcluster",
                               "hydra/launcher=slurm_node"))
    for line in ["#SBATCH --partition=a100", "#SBATCH --gpus-per-node=4", "#SBATCH --cpus-per-task=48",
                 "#SBATCH --mem=0GB", "#SBATCH --ntasks-per-node=1"]:
        assert line in node, (line, node)


def test_default_profile_leaves_resources_to_the_cluster(hydra):
    text = sbatch_text(compose(hydra, "hydra/launcher=slurm_cpu"))
    assert "--partition" not in text and "--account" not in text and "--mem=" not in text
    assert "#SBATCH --cpus-per-task=1" in text


def test_a_typo_in_a_profile_fails_at_composition(hydra, tmp_path):
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "typo.yaml").write_text("slurm:\n  partitoin: gpu\n")
    with pytest.raises(Exception, match="partitoin"):
        compose(hydra, f"hydra.searchpath=[file://{tmp_path}]", "local=typo")


def test_shards_expand_into_one_job_per_shard(hydra):
    from reasonkit.launch.submitit import expand_shards

    master = compose(hydra, "hydra/launcher=slurm_cpu")
    jobs = expand_shards(hydra.config_loader, master,
                         [["sampler.shards=3"], ["selection.max_per_problem=1"], ["sampler.shards=2", "sampler.shard=1"]])
    assert jobs == [["sampler.shards=3", "sampler.shard=0"], ["sampler.shards=3", "sampler.shard=1"],
                    ["sampler.shards=3", "sampler.shard=2"], ["selection.max_per_problem=1"],
                    ["sampler.shards=2", "sampler.shard=1"]]
