"""LightGBM's estimators with XGBoost's ``evals_result()``: the user guide's learning curves.

The guide plots ``trainer.model.evals_result()["validation_0"]["rmse"]`` (training rows)
against ``["validation_1"]["rmse"]`` (validation rows), XGBoost's own form. A
:class:`~skquant.LightGBMTrainer` fits these subclasses, which add that one method and
change nothing else; this module imports LightGBM, so it is imported only when a LightGBM
trainer fits.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np

# LightGBM metric -> (XGBoost's name, transform of the curve)
_XGBOOST_NAMES = {
    "l2": ("rmse", np.sqrt),  # LightGBM's l2 is the (weighted) mean squared error
    "l1": ("mae", None),
    "binary_logloss": ("logloss", None),
    "multi_logloss": ("mlogloss", None),
    "binary_error": ("error", None),
    "multi_error": ("merror", None),
}


class _XGBoostCurves:
    def evals_result(self) -> dict:
        """The learning curves in XGBoost's form, as ``XGBRegressor.evals_result()``.

        Returns
        -------
        curves : dict
            ``"validation_0"`` (the training rows) and ``"validation_1"`` (the
            validation rows, when given), each mapping a metric to its per-iteration
            values, under LightGBM's names and XGBoost's (``rmse`` is the square root
            of ``l2``, ``logloss`` is ``binary_logloss``). The same curves are
            ``evals_result_`` (LightGBM's names) and the trainer's ``evals_result_``.
        """
        out = {}
        for k, curves in enumerate(self.evals_result_.values()):
            named = {metric: list(values) for metric, values in curves.items()}
            for metric, values in curves.items():
                alias, transform = _XGBOOST_NAMES.get(metric, (None, None))
                if alias is not None and alias not in named:
                    named[alias] = list(transform(values) if transform else values)
            out[f"validation_{k}"] = named
        return out


class LGBMRegressor(_XGBoostCurves, lgb.LGBMRegressor):
    """``lightgbm.LGBMRegressor`` with XGBoost's ``evals_result()`` method."""


class LGBMClassifier(_XGBoostCurves, lgb.LGBMClassifier):
    """``lightgbm.LGBMClassifier`` with XGBoost's ``evals_result()`` method."""
