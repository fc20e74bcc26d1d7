"""Fit the models a study compares: the primary model, single-modality models and baselines.

All models share the prediction interface of ``survage.models`` (``predict_risk``,
``predict_survival``, ``predict_cumulative_hazard``, ``save``/``load``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from survage.data.cohort import Cohort
from survage.workflow.config import ExperimentConfig

#: name of the primary model in ``metrics.json``
PRIMARY = "primary"


@dataclass
class Fitted:
    """A fitted model with its description for the report."""

    name: str
    label: str
    kind: str
    modalities: tuple[str, ...]
    model: Any
    outcomes: tuple[str, ...]
    description: str
    details: dict[str, Any] = field(default_factory=dict)


def neural_model(cfg: ExperimentConfig, modalities: tuple[str, ...], outcomes: tuple[str, ...],
                 seed: int) -> Any:
    """An unfitted :class:`survage.models.SurvivalModel` with the config's settings."""
    from survage.models import SurvivalModel

    m, t = cfg.model, cfg.training
    return SurvivalModel(outcomes=outcomes, modalities=modalities, head=m.loss, hidden=m.hidden,
                         dropout=m.dropout, weight_decay=t.weight_decay, lr=t.learning_rate,
                         max_epochs=t.epochs, batch_size=t.batch_size, patience=t.patience,
                         validation_fraction=0.0, seed=seed,
                         clip_to_training_range=m.clip_to_training_range)


def _describe(mods: tuple[str, ...]) -> str:
    return " + ".join(mods)


def fit_neural(cfg: ExperimentConfig, name: str, label: str, modalities: tuple[str, ...],
               outcomes: tuple[str, ...], train: Cohort, validation: Cohort | None, seed: int) -> Fitted:
    """Fit one neural model (early stopping on ``validation`` when given)."""
    model = neural_model(cfg, modalities, outcomes, seed).fit(train, validation)
    desc = (f"{'DeepSurv' if cfg.model.loss == 'cox' else 'Gompertz'} network, hidden {list(cfg.model.hidden)}, "
            f"dropout {cfg.model.dropout}, AdamW lr {cfg.training.learning_rate}, weight decay "
            f"{cfg.training.weight_decay}, {model.n_epochs_} epochs (best {model.best_epoch_}); inputs: "
            f"{_describe(modalities)}; outcomes: {', '.join(outcomes)}.")
    return Fitted(name, label, "neural", modalities, model, outcomes, desc,
                  {"epochs": int(model.n_epochs_), "best_epoch": int(model.best_epoch_)})


def baseline_class(name: str) -> Any | None:
    """The baseline estimator class ``name`` of ``survage.models`` (None when not installed)."""
    for module in ("survage.models", "survage.models.baselines"):
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    return None


class PerOutcome:
    """Single-outcome estimators, one per outcome, behind the multi-outcome prediction interface."""

    def __init__(self, models: dict[str, Any]) -> None:
        self.models = models

    def _m(self, outcome: str | None) -> Any:
        from survage.errors import SurvageInputError

        o = next(iter(self.models)) if outcome is None else outcome
        if o not in self.models:
            raise SurvageInputError(f"the model has no outcome {o!r}", column="outcome",
                                    expected=f"one of {list(self.models)}")
        return self.models[o]

    def predict_risk(self, cohort: Cohort, outcome: str | None = None) -> Any:
        """Risk score of ``outcome``'s estimator."""
        return self._m(outcome).predict_risk(cohort, outcome)

    def predict_cumulative_hazard(self, cohort: Cohort, times: Any, outcome: str | None = None) -> Any:
        """Cumulative hazard ``(n, n_times)`` of ``outcome``'s estimator."""
        return self._m(outcome).predict_cumulative_hazard(cohort, times, outcome)

    def predict_survival(self, cohort: Cohort, times: Any, outcome: str | None = None) -> Any:
        """Survival ``(n, n_times)`` of ``outcome``'s estimator."""
        return self._m(outcome).predict_survival(cohort, times, outcome)


def fit_baseline(kind: str, cfg: ExperimentConfig, outcomes: tuple[str, ...], fit_cohort: Cohort,
                 seed: int) -> Fitted | None:
    """Fit a classical baseline (``cox`` or ``age_gompertz``); None when its class is missing."""
    if kind == "cox":
        cls = baseline_class("LifelinesCox")
        if cls is None:
            return None
        mods = tuple(cfg.model.modalities)
        pen = cfg.model.cox_penalizer
        clip = cfg.model.clip_to_training_range
        models, failed = _per_outcome(lambda o: _construct(cls, outcome=o, modalities=mods, penalizer=pen,
                                                           clip_to_training_range=clip).fit(fit_cohort), outcomes)
        return Fitted("cox", f"Cox PH ({_describe(mods)})", "cox", mods, PerOutcome(models), tuple(models),
                      f"Cox proportional hazards (lifelines, Efron ties, ridge penalizer {pen:g}) on {_describe(mods)}, "
                      "same preprocessing, "
                      "fitted on the training and validation rows, one model per outcome.", {"failed": failed})
    if kind == "age_gompertz":
        cls = baseline_class("AgeGompertz")
        if cls is None:
            return None
        models, failed = _per_outcome(lambda o: _construct(cls, outcome=o).fit(fit_cohort), outcomes)
        return Fitted("age_gompertz", "Gompertz (age only)", "age_gompertz", ("demographics",), PerOutcome(models),
                      tuple(models), "Gompertz proportional hazards on chronological age alone: the reference a "
                      "biological age must beat.", {"failed": failed})
    raise ValueError(kind)  # pragma: no cover - validated by the config


def _per_outcome(fit: Any, outcomes: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    """Fit one estimator per outcome; an outcome whose fit fails is left out with the reason.

    Raises the first error when no outcome could be fitted (the caller notes the baseline).
    """
    models: dict[str, Any] = {}
    failed: dict[str, str] = {}
    first: Exception | None = None
    for o in outcomes:
        try:
            models[o] = fit(o)
        except Exception as exc:  # noqa: BLE001 - one rare outcome must not remove the baseline
            first = first or exc
            failed[o] = f"{type(exc).__name__}: {str(exc)[:200]}"
    if not models and first is not None:
        raise first
    return models, failed


def _construct(cls: Any, **kwargs: Any) -> Any:
    """Instantiate ``cls`` with the keyword arguments its constructor accepts."""
    import inspect

    params = inspect.signature(cls).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return cls(**kwargs)
    return cls(**{k: v for k, v in kwargs.items() if k in params})


def load_fitted_model(directory: Any) -> Any:
    """Load a model saved by a study (``SurvivalModel.load``)."""
    from survage.models import SurvivalModel

    return SurvivalModel.load(directory)
