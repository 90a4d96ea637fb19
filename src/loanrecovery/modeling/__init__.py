"""Default-risk models for any loan table: champion, calibration, reason codes, model files.

The public entry points:

* :func:`prepare_table` - a raw loan table to features and a 0/1 target (roles, leak guard);
* :class:`ChampionClassifier` - candidates compared out-of-fold, best kept, PD calibrated,
  with ``explain`` (reason codes in plain words);
* :class:`BaselineForest` - the original write-up's forest on any feature frame;
* :func:`evaluate_table` - the `evaluate` command's computation;
* :func:`train_scoring_model`, :func:`save_model`, :func:`load_model` - `train` and `score`.
"""

import os

# LightGBM's OpenMP threads spin while waiting by default, which slows everything badly
# when the two cores are shared; waiting passively costs nothing when they are not.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from loanrecovery.modeling.calibration import ScoreCalibrator  # noqa: E402
from loanrecovery.modeling.candidates import (  # noqa: E402
    BaselineForest,
    GBMScorer,
    ScorecardModel,
)
from loanrecovery.modeling.champion import ChampionClassifier  # noqa: E402
from loanrecovery.modeling.drift import DriftReference  # noqa: E402
from loanrecovery.modeling.evaluate import EvaluationResult, evaluate_table  # noqa: E402
from loanrecovery.modeling.model_file import load_model, read_card, save_model  # noqa: E402
from loanrecovery.modeling.scoring import LoanScoringModel, train_scoring_model  # noqa: E402
from loanrecovery.modeling.table import PreparedTable, prepare_table  # noqa: E402

__all__ = [
    "BaselineForest",
    "ChampionClassifier",
    "DriftReference",
    "EvaluationResult",
    "GBMScorer",
    "LoanScoringModel",
    "PreparedTable",
    "ScoreCalibrator",
    "ScorecardModel",
    "evaluate_table",
    "load_model",
    "prepare_table",
    "read_card",
    "save_model",
    "train_scoring_model",
]
