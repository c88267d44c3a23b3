"""Hydra discovers launchers only inside the ``hydra_plugins`` namespace package, so the classes that
``conf/hydra/launcher/*.yaml`` name live here; their behaviour is in ``reasonkit.launch.submitit``.
(No ``hydra_plugins/__init__.py``: it is a namespace package shared with other plugins.)"""
from hydra_plugins.hydra_submitit_launcher import submitit_launcher as _plugin

from reasonkit.launch.submitit import ReasonkitLauncherMixin


class SlurmLauncher(ReasonkitLauncherMixin, _plugin.SlurmLauncher):
    _EXECUTOR = "slurm"


class LocalLauncher(ReasonkitLauncherMixin, _plugin.LocalLauncher):
    _EXECUTOR = "local"
