"""Default-risk models for any loan table: champion, calibration, reason codes, model files.

The public entry points:

* :func:`prepare_table` - a raw loan table to features and a 0/1 target (roles, leak guard);
* :class:`ChampionClassifier` - candidates compared out-of-fold, best kept, PD calibrated,
  with ``explain`` (reason codes in plain words);
* :class:`BaselineForest` - the original write-up's forest on any feature frame;
* :func:`evaluate_table` - the `evaluate` command's computation;
* :func:`prepare_file`, :func:`train_scoring_model`, :func:`model_card`, :func:`save_model`,
  :func:`load_model` - `evaluate`, `train` and `score`.
"""

from loanrecovery.modeling.calibration import ScoreCalibrator
from loanrecovery.modeling.candidates import (
    BaselineForest,
    GBMScorer,
    ScorecardModel,
)
from loanrecovery.modeling.champion import ChampionClassifier
from loanrecovery.modeling.drift import DriftReference
from loanrecovery.modeling.evaluate import EvaluationResult, evaluate_table
from loanrecovery.modeling.model_file import load_model, read_card, save_model
from loanrecovery.modeling.scoring import LoanScoringModel, train_scoring_model
from loanrecovery.modeling.table import PreparedTable, prepare_table
from loanrecovery.modeling.training import model_card, prepare_file

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
    "model_card",
    "prepare_file",
    "prepare_table",
    "read_card",
    "save_model",
    "train_scoring_model",
]
