"""Logs eval cells through WandbTracker offline (a subprocess: wandb's global state stays out of
pytest). usage: python _log_cell.py <out_dir> <spec.json>"""
import json
import sys

from reasonkit.launch.context import LaunchContext
from reasonkit.tracking import build_tracker, tracked
from reasonkit.tracking.summary import log_eval_cell
from reasonkit.tracking.wandb_backend import WandbTracker


def main() -> None:
    out, spec = sys.argv[1], json.loads(open(sys.argv[2]).read())
    for cell in spec["cells"]:
        tracker = build_tracker({"backend": "wandb", "mode": "offline", "project": "rk-test", "dir": out})
        tracker = WandbTracker(tracker.cfg, launch=LaunchContext(**spec["launch"]))
        with tracked(tracker, "eval", {"cell": cell["name"]}, spec["experiment"], cell["name"]) as t:
            log_eval_cell(t, cell["benchmark"], cell["metrics"], cell["config"])
        print(cell["name"], tracker.run_id, flush=True)


if __name__ == "__main__":
    main()
