"""Importing this module registers every stage (each lives in its family's folder)."""
from reasonkit.dynamics import stage as _dynamics  # noqa: F401
from reasonkit.evaluation import stage as _eval  # noqa: F401
from reasonkit.formats import stage as _format  # noqa: F401
from reasonkit.generation import stage as _generate  # noqa: F401
from reasonkit.judging import stage as _judge  # noqa: F401
from reasonkit.report import stage as _report  # noqa: F401
from reasonkit.selection import score_stage as _score  # noqa: F401
from reasonkit.selection import stage as _select  # noqa: F401
from reasonkit.training import stage as _train  # noqa: F401
from reasonkit.transform import stage as _transform  # noqa: F401
