"""Logs a fixed set of stage runs through WandbTracker (run in a subprocess by the tests, so wandb's
process-global state and the secret-holding environment stay out of the pytest process).

usage: python _log_runs.py <out_dir> <spec.json> [extra argv, e.g. a secret on the command line]
"""
import json
import os
import sys

from reasonkit.launch.context import LaunchContext
from reasonkit.tracking import build_tracker, tracked
from reasonkit.tracking.wandb_backend import WandbTracker


def main() -> None:
    out, spec = sys.argv[1], json.loads(open(sys.argv[2]).read())
    launch = LaunchContext(**spec["launch"]) if spec.get("launch") else None
    for run in spec["runs"]:
        tcfg = {**spec["tracking"], "dir": out}
        tracker = build_tracker(tcfg)
        if launch is not None:
            assert isinstance(tracker, WandbTracker)
            tracker = WandbTracker(tracker.cfg, launch=launch)
        try:
            with tracked(tracker, run["stage"], run["config"], spec["experiment"], run["name"]) as t:
                for step, metrics in run.get("curve", []):
                    t.log(metrics, step=step)
                if run.get("metrics"):
                    t.log(run["metrics"])
                for key, rows in run.get("tables", {}).items():
                    t.table(key, rows)
                if run.get("print_env"):  # something printing a secret while a run is open
                    print(f"{run['print_env']}={os.environ[run['print_env']]}", flush=True)
                if run.get("fail"):
                    raise RuntimeError("stage failed on purpose")
        except RuntimeError as e:
            print(f"{run['name']}: {e}")
        print(f"{run['name']}: run_id={tracker.run_id}", flush=True)


if __name__ == "__main__":
    main()
