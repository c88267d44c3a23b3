"""math-verify's own LaTeX normalization, loaded in the parent without sympy.

Why: the fast path decides a pair only where math-verify's verdict is certain. Units
(``5.4 \\text{ cents}``), ``\\$`` signs, ``\\frac 59`` and the like are removed or rewritten by
latex2sympy2_extended's ``normalize_latex`` before its parser runs; applying the very same
function here lets such answers reduce to plain numbers without re-implementing its rules.
``latex2sympy2_extended/__init__`` imports sympy and its ANTLR parser, so the module (pure ``re``)
is loaded from its file on its own. If that ever fails (a layout change), the fast path simply
decides fewer pairs.
"""
from __future__ import annotations

import importlib.util
from dataclasses import replace
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, distribution
from types import ModuleType
from typing import Callable


@lru_cache(maxsize=1)
def _module() -> ModuleType | None:
    try:
        dist = distribution("latex2sympy2_extended")
        rel = next(f for f in dist.files or () if str(f).endswith("latex2sympy2_extended/math_normalization.py"))
        spec = importlib.util.spec_from_file_location("_reasonkit_l2s_normalization", dist.locate_file(rel))
        if spec is None or spec.loader is None:
            return None
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    except (PackageNotFoundError, StopIteration, OSError, ImportError, SyntaxError):
        return None


@lru_cache(maxsize=1)
def boxed_normalizer() -> Callable[[str], str] | None:
    """``s`` → the string math-verify's parser hands to latex2sympy when it reads ``\\boxed{s}``
    (``LatexExtractionConfig``'s normalization with ``boxed="last"``, as for its ``\\boxed{.+}``
    pattern); None when the module cannot be loaded."""
    mod = _module()
    if mod is None:
        return None
    # LatexExtractionConfig's defaults (math_verify/parser.py), boxed read as its boxed pattern does
    cfg = replace(mod.NormalizationConfig(basic_latex=True, units=True, malformed_operators=True,
                                          nits=True, boxed="all", equations=False), boxed="last")

    def run(s: str) -> str:
        return mod.normalize_latex("\\boxed{" + s + "}", config=cfg)

    return run
