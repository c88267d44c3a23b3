"""``reasonkit --help`` names every option with its description, so conf/<group>/<option>.yaml is
found from the command line; an option without a description comment fails here."""
from __future__ import annotations

import subprocess
import sys

from reasonkit.config import CONF_DIR
from reasonkit.help import options
from rk_helpers import REPO


def test_every_option_has_a_one_line_description():
    missing = [f"conf/{g}/{o}.yaml" for g, opts in options(CONF_DIR).items() for o, d in opts.items() if not d]
    assert not missing, f"options without a first-line '# description' comment: {missing}"


def test_help_lists_groups_options_and_descriptions():
    out = subprocess.run([sys.executable, "-m", "reasonkit", "--help"], capture_output=True, text=True,
                         cwd=REPO, timeout=120, check=True).stdout
    for group in ("judge:", "selection:", "sampler:", "hydra/launcher:"):
        assert f"\n{group}\n" in out, group
    assert "math-verify in a hard-timeout process pool" in out  # conf/judge/math.yaml's comment
    assert "llh_highest_mean" in out
