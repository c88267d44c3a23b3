"""``reasonkit --help``: every config group and option with the one-line description from the
first comment of its YAML, so ``conf/<group>/<option>.yaml`` is found (and explained) from the
command line. Hydra's own help stays available as ``--hydra-help``."""
from __future__ import annotations

import os
from pathlib import Path

USAGE = """\
reasonkit [stage=<name>|pipeline] [group=option ...] [key=value ...]   (Hydra; -m sweeps)

  stage=pipeline (default) runs cfg.pipeline in order with every dependency; stage=<name> one stage.
  --cfg job prints the resolved config; --hydra-help shows Hydra's own flags.
"""


def describe(path: Path) -> str:
    """The first comment line of an option's YAML ('' when it has none)."""
    for line in path.read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if s.startswith("# @package") or not s:
            continue
        if s.startswith("#"):
            return s.lstrip("#").strip()
        return ""
    return ""


def options(conf_dir: Path) -> dict[str, dict[str, str]]:
    """``{group: {option: description}}`` for every group folder under ``conf_dir`` (nested groups
    such as ``hydra/launcher`` and ``experiment/<study>`` included)."""
    groups: dict[str, dict[str, str]] = {}
    # os.walk follows links: conf/experiment is a symlink to experiments/, which Path.rglob
    # (before Python 3.13) does not enter
    found = [Path(d) / f for d, _, files in os.walk(conf_dir, followlinks=True) for f in files if f.endswith(".yaml")]
    for yml in sorted(found):
        rel = yml.relative_to(conf_dir)
        if len(rel.parts) < 2:
            continue
        group = rel.parts[0] if rel.parts[0] != "hydra" else "/".join(rel.parts[:2])
        option = "/".join(rel.with_suffix("").parts[len(group.split("/")):])
        groups.setdefault(group, {})[option] = describe(yml)
    return groups


def render(conf_dir: Path) -> str:
    out = [USAGE]
    for group, opts in options(conf_dir).items():
        out.append(f"{group}:")
        width = max(len(o) for o in opts)
        for o, d in opts.items():
            out.append(f"  {o.ljust(width)}  {d}".rstrip())
        out.append("")
    return "\n".join(out)
