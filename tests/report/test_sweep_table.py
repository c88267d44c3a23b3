"""Sweep table from synthetic member data: metric layouts, labels, best marks, intervals, writers."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from reasonkit.report import members as mem
from reasonkit.report.collect import MemberData, read_cells, row_step
from reasonkit.report.render import WRITERS, terminal
from reasonkit.report.sweep_table import Z95, build, from_dict

FLAT = {"teacher": {"model": "t", "problems": 12, "n": 2, "avg@2": 0.75, "avg@2_se": 0.1, "pass@1": 0.75,
                    "pass@2": 0.9, "maj@1": 0.7, "path": "/x"},
        "student": {"model": "s", "n": 2, "avg@2": 0.25, "avg@2_se": 0.05, "pass@1": 0.25},
        "trained": {"model": "s+sft", "n": 2, "avg@2": 0.5, "avg@2_se": 0.08, "pass@1": 0.5, "pass@2": 0.6}}


def _member(key: str, label: str, cells) -> MemberData:
    d = MemberData(mem.Member(key, [], None, None, label))
    d.cells = cells
    return d


def test_read_cells_flat_and_per_benchmark_layouts():
    flat = read_cells(FLAT, "toy")
    assert {(c.row, c.benchmark) for c in flat} == {("teacher", "toy"), ("student", "toy"), ("trained", "toy")}
    tr = next(c for c in flat if c.row == "trained")
    assert tr.metrics["avg@2"] == 0.5 and "model" not in tr.metrics and tr.info["model"] == "s+sft"
    per = read_cells({"trained": {"math500": {"avg@4": 0.3}, "aime24": {"avg@4": 0.1, "by_level": {"1": 0.2}}}}, "x")
    assert {(c.row, c.benchmark, c.metrics["avg@4"]) for c in per} == {("trained", "math500", 0.3),
                                                                        ("trained", "aime24", 0.1)}
    cells = read_cells([{"model": "ckpt-10", "benchmark": "gsm8k", "metrics": {"avg@1": 0.4}, "step": 10}], "x")
    assert cells[0].benchmark == "gsm8k" and cells[0].metrics == {"avg@1": 0.4}
    assert row_step(cells[0], None) == 10


def test_read_cells_eval_grid_layout():
    """The eval stage's metrics.json: {"cells": [{row, model, benchmark, n, avg@<n>, ci95, ...}], "select_best"}."""
    grid = {"cells": [{"row": "teacher", "model": "t", "benchmark": "toy", "artifact": "/a/t", "problems": 12,
                       "n": 2, "avg@2": 0.75, "avg@2_se": 0.1, "pass@2": 0.9, "ci95": [0.55, 0.9], "samples": 24,
                       "by_level": {"1": {"avg": 0.5}}},
                      {"row": "trained", "model": "s+sft", "benchmark": "math500", "n": 4, "avg@4": 0.3,
                       "avg@4_se": 0.05, "ci95": [0.2, 0.41], "step": 8}],
            "select_best": {"benchmark": "math500", "metric": "avg@n", "row": "trained", "model": "s+sft", "value": 0.3}}
    cells = read_cells(grid, "x")
    # select_best's row comes again as "picked", saying what and where it was picked on
    assert [(c.row, c.benchmark) for c in cells] == [("teacher", "toy"), ("trained", "math500"), ("picked", "math500")]
    t, tr, pk = cells
    assert pk.metrics == tr.metrics and (pk.info["picked_row"], pk.info["picked_on"]) == ("trained", "math500:avg@n")
    assert t.metrics == {"avg@2": 0.75, "avg@2_se": 0.1, "pass@2": 0.9, "avg@2_lo": 0.55, "avg@2_hi": 0.9}
    assert t.info["model"] == "t" and t.info["n"] == 2 and t.info["by_level"] == {"1": {"avg": 0.5}}
    assert row_step(tr, None) == 8
    # the bootstrap interval is the ci95 interval shown; "se" stays mean ± s.e.
    table = build("g", [_member("0", "m", cells)], ["trained"], ["teacher"], ["avg@*"], "ci95")
    teacher = next(r for r in table.rows if r.kind == "baseline")
    assert (teacher.values["toy/avg@2"].lo, teacher.values["toy/avg@2"].hi) == (0.55, 0.9)
    assert table.rows[1].values["math500/avg@4"].hi == 0.41
    # the trained row reports the pick, labelled, and the table says it was picked on math500
    assert table.rows[1].label == "m [trained]"
    assert any("picked on math500:avg@n" in n and "math500 columns" in n for n in table.notes), table.notes


def test_a_picked_checkpoint_stands_for_the_trained_row():
    cells = [{"row": f"trained@checkpoint-{s}", "model": f"s@{s}", "benchmark": b, "n": 2, "avg@2": v, "step": s}
             for s, b, v in [(2, "math500", 0.4), (4, "math500", 0.2), (2, "toy", 0.1), (4, "toy", 0.5)]]
    cells.append({"row": "trained", "model": "s", "benchmark": "toy", "n": 2, "avg@2": 0.6})
    pick = {"benchmark": "math500", "metric": "avg@n", "row": "trained@checkpoint-2", "model": "s@2", "value": 0.4}
    t = build("g", [_member("0", "m", read_cells({"cells": cells, "select_best": pick}, "x"))], ["trained"], [],
              ["avg@*"], "se")
    (row,) = t.rows
    assert row.label == "m [trained@checkpoint-2]"
    assert row.values["math500/avg@2"].mean == 0.4 and row.values["toy/avg@2"].mean == 0.1  # not the final 0.6
    assert len(t.notes) == 1 and "picked on math500:avg@n" in t.notes[0]
    # picked on a benchmark the table does not report: no warning
    toy = [c for c in read_cells({"cells": cells, "select_best": pick}, "x") if c.benchmark == "toy"]
    t2 = build("g", [_member("0", "m", toy)], ["trained"], [], ["avg@*"], "se")
    assert t2.rows[0].label == "m [trained@checkpoint-2]" and not t2.notes


def test_row_steps():
    cells = {c.row: c for c in read_cells({**FLAT, "checkpoint-6": {"avg@2": 0.4}}, "toy")}
    assert row_step(cells["student"], 8) == 0 and row_step(cells["trained"], 8) == 8
    assert row_step(cells["checkpoint-6"], 8) == 6 and row_step(cells["teacher"], 8) is None


def test_build_rows_best_and_intervals():
    a = _member("0", "selection=a", read_cells(FLAT, "toy"))
    better = json.loads(json.dumps(FLAT))
    better["trained"]["avg@2"] = 0.625
    b = _member("1", "selection=b", read_cells(better, "toy"))
    c = _member("2", "selection=c", [])
    c.member.missing.append("eval: not complete")
    t = build("t", [a, b, c], ["trained"], ["teacher", "student"], ["avg@*", "pass@*"], "se")
    assert [r.label for r in t.rows] == ["teacher (t)", "student (s)", "selection=a", "selection=b", "selection=c"]
    assert [col.metric for col in t.columns] == ["avg@2", "pass@1", "pass@2"]  # maj@ not asked for
    rows = {r.label: r for r in t.rows}
    assert rows["selection=b"].values["toy/avg@2"].best and not rows["selection=a"].values["toy/avg@2"].best
    assert rows["selection=a"].values["toy/pass@2"].best and rows["selection=b"].values["toy/pass@2"].best  # tie
    assert not rows["teacher (t)"].values["toy/avg@2"].best  # baselines are not ranked
    v = rows["selection=a"].values["toy/avg@2"]
    assert (v.lo, v.hi) == pytest.approx((0.42, 0.58))
    assert rows["selection=c"].values == {} and rows["selection=c"].missing == ["eval: not complete"]
    ci = build("t", [a], ["trained"], [], ["avg@*"], "ci95").rows[0].values["toy/avg@2"]
    assert ci.hi - ci.mean == pytest.approx(Z95 * 0.08)
    assert from_dict(json.loads(json.dumps(t.as_dict()))).as_dict() == t.as_dict()


def test_writers():
    a = _member("0", "selection=llh_highest_mean", read_cells(FLAT, "toy"))
    b = _member("1", "selection=x_y", read_cells({"trained": {**FLAT["trained"], "avg@2": 0.55}}, "toy"))
    m = _member("2", "selection=z", [])
    m.member.missing.append("job never started (no run folder)")
    t = build("exp: sweep s", [a, b, m], ["trained"], ["teacher"], ["avg@*"], "se")
    md = WRITERS.get("md")(t)
    assert "| run | avg@2 (%) |" in md and "**55.0** ± 8.0" in md and "| 50.0 ± 8.0 |" in md
    assert "## Missing (partial table)" in md and "selection=z: job never started" in md
    tex = WRITERS.get("tex")(t)
    assert all(k in tex for k in (r"\toprule", r"\midrule", r"\bottomrule", r"\textbf{55.0} $\pm$ 8.0"))
    assert r"selection=x\_y" in tex
    rows = list(csv.DictReader(io.StringIO(WRITERS.get("csv")(t))))
    assert [r["run"] for r in rows] == ["teacher (t)", "selection=llh_highest_mean", "selection=x_y", "selection=z"]
    assert float(rows[2]["toy/avg@2"]) == 0.55 and rows[2]["toy/avg@2_best"] == "1" and rows[3]["toy/avg@2"] == ""
    assert json.loads(WRITERS.get("json")(t))["rows"][2]["values"]["toy/avg@2"]["best"] is True
    head, body, caption = terminal(t)
    assert body[2][1].startswith("55.0*") and "missing: selection=z" in caption
    with pytest.raises(KeyError, match="unknown option 'html'"):
        WRITERS.get("html")


def _job(d: Path, overrides: list[str], exp: str = "demo") -> Path:
    (d / ".hydra").mkdir(parents=True)
    (d / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    (d / ".hydra" / "config.yaml").write_text(yaml.safe_dump({"experiment_name": exp, "stage": "pipeline",
                                                              "pipeline": []}))
    return d


def test_members_of_a_partial_multirun(tmp_path):
    sweep = tmp_path / "multirun" / "2026-01-02" / "03-04-05"
    sweep.mkdir(parents=True)
    (sweep / "multirun.yaml").write_text(yaml.safe_dump(
        {"hydra": {"overrides": {"task": ["selection=a,b,c", "debug=tiny"]}, "sweeper": {"params": None}}}))
    _job(sweep / "0", ["selection=a", "debug=tiny"])
    _job(sweep / "2", ["selection=c", "debug=tiny"])
    s = mem.resolve({"sweep": str(sweep)}, tmp_path, "demo")
    assert s.sweep_id == "2026-01-02-03-04-05" and s.experiment == "demo"
    assert [(m.key, m.label, m.job_dir is None) for m in s.members] == [
        ("0", "selection=a", False), ("1", "selection=b", True), ("2", "selection=c", False)]
    assert s.members[1].missing == ["job never started (no run folder)"] and s.common == ["debug=tiny"]
    assert mem.resolve({"sweep": "latest"}, tmp_path, "demo").sweep_id == s.sweep_id


def test_runs_and_experiment_modes_and_errors(tmp_path):
    r1 = _job(tmp_path / "runs" / "d" / "t1", ["selection=a", "seed=1"], exp="e")
    _job(tmp_path / "runs" / "d" / "t2", ["selection=a", "seed=2"], exp="e")
    _job(tmp_path / "runs" / "d" / "t3", ["selection=b"], exp="other")
    s = mem.resolve({"runs": [str(r1), "d/t2"]}, tmp_path, "demo")
    assert [m.label for m in s.members] == ["seed=1", "seed=2"] and s.sweep_id.startswith("runs-")
    assert mem.resolve({"runs": ["d/t2", str(r1)]}, tmp_path, "demo").sweep_id == s.sweep_id
    e = mem.resolve({"experiment": "e"}, tmp_path, "demo")
    assert e.sweep_id == "all-runs" and len(e.members) == 2
    with pytest.raises(mem.ReportInputError, match="'nope' is not a run folder"):
        mem.resolve({"runs": ["nope"]}, tmp_path, "demo")
    with pytest.raises(mem.ReportInputError, match="no multirun of experiment_name='e'"):
        mem.resolve({"sweep": "latest"}, tmp_path, "e")
    with pytest.raises(mem.ReportInputError, match="set one of"):
        mem.resolve({"sweep": "x", "runs": ["y"]}, tmp_path, "e")
    assert mem.resolve({}, tmp_path, "e") is None


def test_same_label_twice_gets_member_key():
    s = mem.Sweep("e", "s", [mem.Member("0", ["a=1"]), mem.Member("1", ["a=1"]), mem.Member("2", ["a=2"])], "x")
    mem.label(s)
    assert [m.label for m in s.members] == ["a=1 [0]", "a=1 [1]", "a=2"]
