"""Run identity across a SLURM requeue, and how runs are grouped, from the launch context."""
from reasonkit.launch.context import LaunchContext, current
from reasonkit.tracking.config import TrackingConfig
from reasonkit.tracking.wandb_backend import requeue_run_id, run_group


def test_launch_context_reads_slurm_variables_outside_hydra():
    ctx = current({"SLURM_JOB_ID": "118", "SLURM_ARRAY_JOB_ID": "115", "SLURM_ARRAY_TASK_ID": "3",
                   "SLURM_RESTART_COUNT": "2"})
    assert (ctx.slurm_job_id, ctx.slurm_array_job_id, ctx.slurm_array_task_id, ctx.restart_count) == \
        ("118", "115", 3, 2)
    assert ctx.sweep is None          # not a Hydra multirun: no sweep to group by
    assert current({}) == LaunchContext()


def test_requeued_job_keeps_its_run_id_and_other_jobs_do_not_share_it():
    first = LaunchContext(slurm_job_id="118", restart_count=0)
    requeued = LaunchContext(slurm_job_id="118", restart_count=1)
    assert requeue_run_id("gen-abc", first) == requeue_run_id("gen-abc", requeued)
    assert requeue_run_id("gen-abc", first) != requeue_run_id("gen-abc", LaunchContext(slurm_job_id="119"))
    assert requeue_run_id("gen-abc", first) != requeue_run_id("judge-abc", first)
    assert requeue_run_id("gen-abc", LaunchContext()) is None     # off SLURM: wandb picks a fresh id


def test_group_is_experiment_plus_sweep_unless_set():
    assert run_group(TrackingConfig(), "exp", LaunchContext(sweep="115")) == "exp-115"
    assert run_group(TrackingConfig(), "exp", LaunchContext()) == "exp"
    assert run_group(TrackingConfig(group="mine"), "exp", LaunchContext(sweep="115")) == "mine"
