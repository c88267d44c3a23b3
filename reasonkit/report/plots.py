"""Figures of a sweep (PNG for a quick look, PDF for the paper), drawn with matplotlib's Agg
backend so they render on a headless cluster node. Every function takes plain series and returns
the files it wrote; nothing here reads artifacts."""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import LogFormatter, MaxNLocator, ScalarFormatter  # noqa: E402

Series = dict[str, list[tuple[float, float, float | None]]]  # label → [(x, y, err)]


def _save(fig, out: Path, stem: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.png", out / f"{stem}.pdf"]
    fig.tight_layout()
    fig.savefig(paths[0], dpi=150)
    fig.savefig(paths[1])
    plt.close(fig)
    return paths


def _legend(ax, n: int) -> None:
    if n:
        ax.legend(fontsize=8 if n <= 6 else 6, frameon=False, loc="best")


def _log(axis, set_scale) -> None:
    """Log scale with plain numbers (1, 2, 5 rather than 2×10⁰) on short ranges."""
    set_scale("log")
    fmt = ScalarFormatter()
    fmt.set_scientific(False)
    axis.set_major_formatter(fmt)
    axis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.4)))


def _grid(n: int, width: float = 5.0, height: float = 3.6):
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def lines(panels: dict[str, Series], out: Path, stem: str, xlabel: str, ylabels: dict[str, str],
          refs: dict[str, dict[str, float]] | None = None, logy: Sequence[str] = (),
          percent: Sequence[str] = (), dodge: bool = False) -> list[Path]:
    """One subplot per panel, one line (with error bars where given) per series label; ``refs``
    draws horizontal reference lines (e.g. the teacher) per panel; ``dodge`` shifts series
    slightly along x so equal points (every member's base model at step 0) stay visible."""
    fig, axes = _grid(len(panels))
    for ax, (title, series) in zip(axes, panels.items()):
        scale = 100.0 if title in percent else 1.0
        allx = [p[0] for pts in series.values() for p in pts]
        span = (max(allx) - min(allx)) or 1.0 if allx else 1.0
        for i, (lab, pts) in enumerate(series.items()):
            pts = sorted(pts)
            shift = (i - (len(series) - 1) / 2) * 0.012 * span if dodge else 0.0
            xs = [p[0] + shift for p in pts]
            ys = [p[1] * scale for p in pts]
            errs = [(p[2] or 0.0) * scale for p in pts]
            if any(errs):
                ax.errorbar(xs, ys, yerr=errs, marker="o", ms=4, capsize=3, label=lab)
            else:
                ax.plot(xs, ys, marker="o", ms=4, label=lab)
        for lab, y in (refs or {}).get(title, {}).items():
            ax.axhline(y * scale, ls="--", lw=1, color="grey")
            ax.annotate(lab, (0.01, y * scale), xycoords=("axes fraction", "data"), fontsize=7,
                        color="grey", va="bottom")
        if title in logy:
            _log(ax.yaxis, ax.set_yscale)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabels.get(title, title) + (" (%)" if title in percent else ""))
        ax.grid(alpha=0.3)
        _legend(ax, len(series))
    return _save(fig, out, stem)


def boxes(panels: dict[str, dict[str, list[float]]], out: Path, stem: str,
          logx: Sequence[str] = ()) -> list[Path]:
    """Distributions side by side: one horizontal box per group (e.g. selection strategy) in each
    panel (e.g. log-likelihood, perplexity, entropy), with the group's sample count."""
    groups = list(dict.fromkeys(g for p in panels.values() for g in p))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 1.2 + 0.5 * len(groups)),
                             squeeze=False)
    for i, (ax, (title, data)) in enumerate(zip(axes.flat, panels.items())):
        vals = [data.get(g, []) for g in groups]
        ax.boxplot([v if v else [math.nan] for v in vals], vert=False, widths=0.6, showfliers=True,
                   flierprops={"markersize": 2})
        ax.set_yticks(range(1, len(groups) + 1))
        ax.set_yticklabels([f"{g} (n={len(v)})" for g, v in zip(groups, vals)] if i == 0 else
                           [""] * len(groups), fontsize=8)
        if title in logx:
            _log(ax.xaxis, ax.set_xscale)
        ax.invert_yaxis()  # first group on top, as in the legend/table order
        ax.set_xlabel(title)
        ax.grid(alpha=0.3, axis="x")
    return _save(fig, out, stem)
