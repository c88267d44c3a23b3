"""Launch helpers: where a job runs (``context``), the SLURM/local submitit launchers
(``submitit``), the cluster profile schema (``config``).

Importing this package registers the ``rk_launch_mode`` resolver. ``conf/config.yaml`` sets
``hydra.mode: ${rk_launch_mode:${hydra.launcher._target_}}`` so that selecting a SLURM launcher
submits without ``-m``: Hydra merges its own ``hydra`` defaults after a launcher option, so a
launcher file cannot set ``hydra.mode`` itself; the primary config can.
"""
from __future__ import annotations

from omegaconf import OmegaConf

# Launchers for which a plain `reasonkit ...` means "submit": the job runs on the cluster, never in
# the login shell. The local submitit launcher is not one of them (it is opt-in with -m).
MULTIRUN_LAUNCHERS = frozenset({
    "hydra_plugins.reasonkit_launcher.SlurmLauncher",
    "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher",
})


def launch_mode(target: str) -> str | None:
    """``MULTIRUN`` for SLURM launchers, else None (Hydra then runs in-process unless -m)."""
    return "MULTIRUN" if target in MULTIRUN_LAUNCHERS else None


def register_resolvers() -> None:
    if not OmegaConf.has_resolver("rk_launch_mode"):
        OmegaConf.register_new_resolver("rk_launch_mode", launch_mode)


register_resolvers()
