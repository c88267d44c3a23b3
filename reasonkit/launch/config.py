"""Schema of the ``local`` group: the cluster profile (``conf/local/<name>.yaml``, git-ignored except
the example ``default.yaml``).

The ``hydra/launcher=slurm_*`` options read partition, account, resources and setup lines from
here, so one profile per cluster/user replaces editing launcher files; a typo in a profile fails
at composition because this schema types it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass
class SlurmProfile:
    partition: Optional[str] = None        # CPU jobs (None: the cluster's default partition)
    gpu_partition: Optional[str] = None    # slurm_gpu / slurm_node jobs
    account: Optional[str] = None
    qos: Optional[str] = None
    constraint: Optional[str] = None
    exclude: Optional[str] = None
    timeout_min: int = 240
    cpus_per_task: int = 1                 # slurm_cpu
    mem_gb: Optional[int] = None           # slurm_cpu (None: the cluster's DefMemPerCPU)
    gpus_per_job: int = 1                  # slurm_gpu
    cpus_per_gpu: int = 8                  # slurm_gpu
    mem_per_gpu: Optional[str] = None      # slurm_gpu, sbatch syntax ("64G"); None: DefMemPerCPU
    gpus_per_node: int = 8                 # slurm_node takes whole nodes: all GPUs, all memory,
    cpus_per_node: int = 64                #   and this many CPUs for the one launcher task
    array_parallelism: int = 64            # most tasks of one sweep/array running at once
    # Requeues allowed after a time-out; the stages resume from what is on disk.
    max_num_timeout: int = 3
    # USR2 this many seconds before the limit, so the job can requeue itself in time.
    signal_delay_s: int = 120
    # Shell lines run in the sbatch script before the job (module load, conda activate, exports).
    setup: list[str] = field(default_factory=list)
    # Any other sbatch flag, e.g. {mail-user: me@x, reservation: big}.
    additional_parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class LocalConfig:
    slurm: SlurmProfile = field(default_factory=SlurmProfile)
