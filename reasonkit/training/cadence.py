"""Whether a trainer's checkpoint cadence can fire, decided from ``trainer.args`` before training.

Why: transformers saves on ``global_step % save_steps == 0`` and once more at the last step, so
``save_steps`` above ``max_steps`` silently leaves only the final model, and
``eval.models=[checkpoints]`` has nothing to compare. Read from the args over the TRL config
class's own defaults (no object is built, so GPU-only settings are checked on a CPU machine too).
"""
from __future__ import annotations

import dataclasses
from typing import Any


def effective_args(cls: type, args: dict[str, Any]) -> dict[str, Any]:
    """``args`` over the config class's field defaults (the values transformers will use)."""
    defaults = {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}
    out = {**defaults, **args}
    out["save_strategy"] = str(getattr(out.get("save_strategy"), "value", out.get("save_strategy"))).lower()
    return out


def check_save_cadence(name: str, cls: type, args: dict[str, Any]) -> None:
    """One-line refusal of a steps cadence that can never fire before the run ends (a float
    ``save_steps`` below 1 is a fraction of the run and always fires)."""
    a = effective_args(cls, args)
    every, max_steps = float(a.get("save_steps") or 0), int(a.get("max_steps") or -1)
    if a["save_strategy"] == "steps" and max_steps > 0 and every >= 1 and every > max_steps:
        raise ValueError(f"trainer={name}: trainer.args.save_steps={a['save_steps']} > max_steps={max_steps}: "
                         f"no checkpoint is saved before the final model; set save_steps to at most max_steps "
                         f"(e.g. {max(1, max_steps // 2)})")
