"""Scores from ratings and metrics: rates with intervals, Bradley–Terry, agreement, fairness, trends.

Kept apart the FastChat way: the maths is pure functions over numpy arrays (:mod:`.stats`,
:mod:`.bradley_terry`: every formula, testable against independent references); :mod:`.aggregate`
reads the store in SQL and feeds them; :mod:`.results` holds the records and their JSON, chart and
table shapes.
"""

from genaicompare.scoring.aggregate import SAFETY_METRIC, compute_scores, scores_table
from genaicompare.scoring.bradley_terry import (
    BattleCounts,
    BTResult,
    battles_from_counts,
    bradley_terry,
    bt_design,
    bt_loss_and_grad,
    fit_bt,
    fit_bt_rounds,
    votes_to_separate,
)
from genaicompare.scoring.results import ModelScore, Scores, ScoresTable, table_rows
from genaicompare.scoring.stats import (
    Z95,
    auc,
    cohen_kappa,
    grouped_quantiles,
    newcombe_difference,
    wilson_interval,
)

__all__ = [
    "SAFETY_METRIC",
    "Z95",
    "BTResult",
    "BattleCounts",
    "ModelScore",
    "Scores",
    "ScoresTable",
    "auc",
    "battles_from_counts",
    "bradley_terry",
    "bt_design",
    "bt_loss_and_grad",
    "cohen_kappa",
    "compute_scores",
    "fit_bt",
    "fit_bt_rounds",
    "grouped_quantiles",
    "newcombe_difference",
    "scores_table",
    "table_rows",
    "votes_to_separate",
    "wilson_interval",
]
