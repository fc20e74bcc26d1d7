"""Typed experiment configurations, loaded from YAML with clear errors.

An experiment file (``experiments/*.yaml``) is validated into frozen dataclasses: every key must be
known, every value must have the declared type and lie in its allowed set or range. A problem
raises :class:`~survage.errors.SurvageInputError` naming the key (as a dotted path) and the file.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from survage.errors import SurvageInputError

DataSource = Literal["nhanes", "oppscr", "oppscr_sim", "flchain"]
DesignKind = Literal["external", "random"]
Survey = Literal["nhanes3", "nhanes4"]

#: PhenoAge constant c used by default (Levine et al. 2018; BioAge issue #51 / pull request #55)
DEFAULT_PHENOAGE_CONSTANT = 0.090165


@dataclass(frozen=True)
class DataConfig:
    """Where the people come from.

    Attributes
    ----------
    source
        ``nhanes`` (bundled extracts), ``oppscr`` (a screening sheet, ``path`` required, may be
        given on the command line), ``oppscr_sim`` (simulated screening sheet of ``n`` people),
        ``flchain`` (the serum free light chain benchmark).
    path
        Data file for ``oppscr`` (``.csv`` or ``.xlsx``); relative paths are taken from the
        working directory.
    n
        Number of simulated people (``oppscr_sim`` only).
    age_range
        Inclusive range of chronological ages kept (years).
    strict
        Raise on any bad row instead of excluding it with a counted reason.
    clinical_features
        Columns of the ``clinical`` modality the models use (a subset of the declared ones, in
        that order); empty = all declared clinical columns.
    """

    source: DataSource = "nhanes"
    path: str | None = None
    n: int = 9000
    age_range: tuple[float, float] = (20.0, 84.0)
    strict: bool = False
    clinical_features: tuple[str, ...] = ()


@dataclass(frozen=True)
class DesignConfig:
    """Train/test design.

    Attributes
    ----------
    kind
        ``external``: train on survey ``train``, test on survey ``test`` (NHANES only: NHANES III
        -> 1999-2002, the direction of Levine et al. 2018); ``random``: a stratified random split
        of one cohort (event status x age band) with ``test_size`` and ``validation_size``.
    train, test
        Surveys of an ``external`` design.
    test_size, validation_size
        Fractions of all rows (``random``) ; ``validation_size`` is also the fraction of the
        training rows held out for early stopping in an ``external`` design.
    """

    kind: DesignKind = "random"
    train: Survey = "nhanes3"
    test: Survey = "nhanes4"
    test_size: float = 0.25
    validation_size: float = 0.1


@dataclass(frozen=True)
class OutcomeConfig:
    """Outcomes analysed: the primary one (models, biological age) and additional ones."""

    primary: str = "death"
    additional: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        """Primary first, then the additional outcomes (duplicates removed)."""
        return tuple(dict.fromkeys((self.primary, *self.additional)))


@dataclass(frozen=True)
class ModelConfig:
    """The primary model and its comparators.

    Attributes
    ----------
    modalities
        Modalities of the primary (multimodal) model.
    single_modality
        Also fit one model per modality of ``modalities`` (that modality alone), the comparators
        of the paired differences (against the best of them on the validation rows).
    baselines
        Classical comparators: ``cox`` (lifelines Cox on the same features), ``age_gompertz``
        (Gompertz model on age alone).
    loss
        Survival loss of the neural model: ``cox`` (partial likelihood) or ``gompertz``.
    hidden
        Hidden-layer widths of each tabular branch.
    dropout
        Dropout probability.
    cox_penalizer
        Ridge penalty of the ``cox`` baseline (lifelines ``penalizer``; 0 = plain Cox).
    clip_to_training_range
        Clip each feature of new data to its training minimum and maximum before preprocessing
        (neural and Cox models), for transport to surveys with other assay limits.
    """

    modalities: tuple[str, ...] = ("demographics", "clinical")
    single_modality: bool = True
    baselines: tuple[Literal["cox", "age_gompertz"], ...] = ("cox", "age_gompertz")
    loss: Literal["cox", "gompertz"] = "cox"
    hidden: tuple[int, ...] = (32,)
    dropout: float = 0.1
    cox_penalizer: float = 0.0
    clip_to_training_range: bool = False


@dataclass(frozen=True)
class TrainingConfig:
    """Optimisation settings of the neural models (AdamW, early stopping on validation loss).

    Attributes
    ----------
    epochs
        Maximum number of epochs.
    batch_size
        ``None``: full batch (the Cox partial likelihood over all training rows, the default);
        an integer: mini-batches with risk sets formed within each batch.
    learning_rate, weight_decay
        AdamW settings.
    patience
        Epochs without a lower validation loss before stopping.
    """

    epochs: int = 60
    batch_size: int | None = None
    learning_rate: float = 1e-2
    weight_decay: float = 1e-4
    patience: int = 8


@dataclass(frozen=True)
class EvaluationConfig:
    """Test-set evaluation.

    Attributes
    ----------
    horizons
        Horizons in years for time-dependent AUC, calibration and predicted survival (at least
        one; 5 and 10 by default).
    bootstrap
        Bootstrap resamples for the 95 % confidence intervals and paired differences (0: none).
    calibration
        ``austin`` (Austin, Harrell & van Klaveren 2020, restricted cubic spline of cloglog risk)
        or ``lifelines`` (Royston-Parmar, linear in cloglog risk).
    """

    horizons: tuple[float, ...] = (5.0, 10.0)
    bootstrap: int = 200
    calibration: Literal["austin", "lifelines"] = "austin"


@dataclass(frozen=True)
class BioAgeConfig:
    """Biological age.

    Attributes
    ----------
    horizon
        Years over which the model's cumulative hazard is mapped through the Gompertz reference.
    phenoage_constant
        The constant ``c`` of PhenoAge (0.090165 by default; 0.09165 is the other value in use).
    baselines
        Published clocks to compare with where their inputs exist: ``phenoage``, ``kdm``.
    scatter_points
        How many (CA, BA) points the report's scatter plot may show (a random sample).
    interval_members
        Size of the deep ensemble (the primary model and ``interval_members - 1`` refits with
        other seeds, primary outcome only) whose spread gives each person's biological-age
        interval; 0 or 1: no interval.
    interval_level
        Coverage of the percentile interval.
    """

    horizon: float = 10.0
    phenoage_constant: float = DEFAULT_PHENOAGE_CONSTANT
    baselines: tuple[Literal["phenoage", "kdm"], ...] = ("phenoage", "kdm")
    scatter_points: int = 1500
    interval_members: int = 5
    interval_level: float = 0.95


@dataclass(frozen=True)
class SecondaryConfig:
    """Secondary analyses, each with its own report section.

    Attributes
    ----------
    analyses
        ``dxa``: within the people who have DXA body composition (NHANES 1999-2002, ages 20-49),
        stratified k-fold cross-validation of demographics + clinical, demographics + DXA and
        demographics + clinical + DXA networks; out-of-fold Harrell C with bootstrap CIs and
        paired bootstrap differences, and a plain statement when it is underpowered.
    folds
        Number of cross-validation folds (seeded by the experiment ``seed``).
    min_events
        Fewer events than this make the analysis "underpowered" in the report, whatever the CIs.
    """

    analyses: tuple[Literal["dxa"], ...] = ()
    folds: int = 5
    min_events: int = 200


@dataclass(frozen=True)
class ExperimentConfig:
    """A whole experiment: data, design, outcomes, models, training, evaluation, biological age,
    secondary analyses."""

    name: str
    description: str = ""
    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    design: DesignConfig = field(default_factory=DesignConfig)
    outcomes: OutcomeConfig = field(default_factory=OutcomeConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    bioage: BioAgeConfig = field(default_factory=BioAgeConfig)
    secondary: SecondaryConfig = field(default_factory=SecondaryConfig)

    def replace(self, **changes: Any) -> "ExperimentConfig":
        """A copy with top-level fields replaced (validated again)."""
        new = dataclasses.replace(self, **changes)
        _check_values(new, "<override>")
        return new

    def to_dict(self) -> dict[str, Any]:
        """Plain (YAML/JSON-ready) form; tuples become lists."""
        return _plain(dataclasses.asdict(self))


# ---------------------------------------------------------------------------------- loading
def load_config(path: str | Path) -> ExperimentConfig:
    """Read and validate an experiment YAML file.

    Parameters
    ----------
    path
        The ``experiments/*.yaml`` file.

    Raises
    ------
    SurvageInputError
        Missing file, invalid YAML, an unknown key, a value of the wrong type or out of range;
        the message names the key (dotted path) and the file.
    """
    import yaml

    p = Path(path)
    if not p.is_file():
        raise SurvageInputError(f"experiment file {str(p)!r} not found", column=str(p),
                                expected="an existing .yaml file")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SurvageInputError(f"{p}: invalid YAML ({exc})", column=str(p),
                                expected="a YAML mapping") from None
    return config_from_dict(raw if raw is not None else {}, source=str(p))


def config_from_dict(raw: Mapping[str, Any], *, source: str = "<dict>") -> ExperimentConfig:
    """Validate a mapping (parsed YAML) into an :class:`ExperimentConfig`.

    ``source`` names the file in error messages.
    """
    cfg = _build(ExperimentConfig, raw, source, "")
    _check_values(cfg, source)
    return cfg


def dump_config(cfg: ExperimentConfig, path: Path) -> None:
    """Write ``cfg`` as YAML (atomic), e.g. a run's ``config.resolved.yaml``."""
    import yaml

    from survage.atomic import atomic_write_text

    atomic_write_text(path, yaml.safe_dump(cfg.to_dict(), sort_keys=False))


def _build(cls: type, raw: Any, source: str, where: str) -> Any:
    if not isinstance(raw, Mapping):
        raise SurvageInputError(f"{source}: {where or 'the file'} must be a mapping",
                                column=where or source, expected="key: value pairs")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [k for k in raw if k not in fields]
    if unknown:
        key = f"{where}.{unknown[0]}" if where else str(unknown[0])
        raise SurvageInputError(f"{source}: unknown key {key!r}", column=key,
                                expected=f"one of {sorted(fields)}" + (f" under {where!r}" if where else ""))
    kwargs = {}
    for name, f in fields.items():
        key = f"{where}.{name}" if where else name
        if name not in raw:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise SurvageInputError(f"{source}: required key {key!r} missing", column=key,
                                        expected="the key present")
            continue
        kwargs[name] = _coerce(hints[name], raw[name], source, key)
    return cls(**kwargs)


def _coerce(tp: Any, value: Any, source: str, key: str) -> Any:
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, source, key)
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, source, key)
    if origin is Literal:
        allowed = get_args(tp)
        if value not in allowed:
            raise SurvageInputError(f"{source}: bad value {value!r} for key {key!r}", column=key,
                                    expected=f"one of {list(allowed)}")
        return value
    if origin is tuple:
        args = get_args(tp)
        if not isinstance(value, (list, tuple)):
            value = [value] if args and args[-1] is Ellipsis else value
        if not isinstance(value, (list, tuple)):
            raise SurvageInputError(f"{source}: bad value {value!r} for key {key!r}", column=key,
                                    expected="a list")
        if args and args[-1] is Ellipsis:
            return tuple(_coerce(args[0], v, source, f"{key}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise SurvageInputError(f"{source}: bad value {value!r} for key {key!r}", column=key,
                                    expected=f"a list of {len(args)} values")
        return tuple(_coerce(a, v, source, f"{key}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
    if tp is bool:
        if not isinstance(value, bool):
            raise SurvageInputError(f"{source}: bad value {value!r} for key {key!r}", column=key,
                                    expected="true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SurvageInputError(f"{source}: bad value {value!r} for key {key!r}", column=key,
                                    expected="an integer")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SurvageInputError(f"{source}: bad value {value!r} for key {key!r}", column=key,
                                    expected="a number")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise SurvageInputError(f"{source}: bad value {value!r} for key {key!r}", column=key,
                                    expected="a string")
        return value
    raise TypeError(f"unsupported config type {tp!r}")  # pragma: no cover - programming error


def _check_values(cfg: ExperimentConfig, source: str) -> None:
    """Range and consistency checks that types alone cannot express."""
    def bad(key: str, value: object, expected: str) -> SurvageInputError:
        return SurvageInputError(f"{source}: bad value {value!r} for key {key!r}", column=key,
                                 expected=expected)

    d, ds, ev, tr, ba, m = cfg.data, cfg.design, cfg.evaluation, cfg.training, cfg.bioage, cfg.model
    if not cfg.name.strip():
        raise bad("name", cfg.name, "a non-empty name")
    if d.n < 50:
        raise bad("data.n", d.n, "at least 50 people")
    if not 0 <= d.age_range[0] < d.age_range[1] <= 120:
        raise bad("data.age_range", list(d.age_range), "0 <= low < high <= 120")
    if ds.kind == "external" and d.source != "nhanes":
        raise bad("design.kind", ds.kind, "'random' for a source other than nhanes")
    if ds.kind == "external" and ds.train == ds.test:
        raise bad("design.test", ds.test, "a survey other than design.train")
    if not 0 < ds.test_size < 1:
        raise bad("design.test_size", ds.test_size, "a fraction in (0, 1)")
    if not 0 <= ds.validation_size < 1 - (ds.test_size if ds.kind == "random" else 0):
        raise bad("design.validation_size", ds.validation_size, "a fraction in [0, 1 - test_size)")
    if not m.modalities:
        raise bad("model.modalities", [], "at least one modality")
    if any(h <= 0 for h in m.hidden):
        raise bad("model.hidden", list(m.hidden), "positive widths")
    if m.cox_penalizer < 0:
        raise bad("model.cox_penalizer", m.cox_penalizer, "a number >= 0")
    if not 0 <= m.dropout < 1:
        raise bad("model.dropout", m.dropout, "a probability in [0, 1)")
    for key, v in (("training.epochs", tr.epochs), ("training.batch_size", tr.batch_size or 2),
                   ("training.patience", tr.patience)):
        if v < 1 or (key == "training.batch_size" and v < 2):
            raise bad(key, v, "a positive integer")
    if tr.learning_rate <= 0:
        raise bad("training.learning_rate", tr.learning_rate, "a positive number")
    if tr.weight_decay < 0:
        raise bad("training.weight_decay", tr.weight_decay, "a number >= 0")
    if not ev.horizons or any(h <= 0 for h in ev.horizons):
        raise bad("evaluation.horizons", list(ev.horizons), "positive horizons in years")
    if list(ev.horizons) != sorted(set(ev.horizons)):
        raise bad("evaluation.horizons", list(ev.horizons), "increasing, distinct horizons")
    if ev.bootstrap < 0:
        raise bad("evaluation.bootstrap", ev.bootstrap, "an integer >= 0")
    if ba.horizon <= 0:
        raise bad("bioage.horizon", ba.horizon, "a positive number of years")
    if not 0.05 < ba.phenoage_constant < 0.2:
        raise bad("bioage.phenoage_constant", ba.phenoage_constant,
                  "a value near 0.090165 (Levine et al. 2018) or 0.09165")
    if ba.interval_members < 0:
        raise bad("bioage.interval_members", ba.interval_members, "an integer >= 0")
    if not 0 < ba.interval_level < 1:
        raise bad("bioage.interval_level", ba.interval_level, "a level in (0, 1)")
    if ba.scatter_points < 0:
        raise bad("bioage.scatter_points", ba.scatter_points, "an integer >= 0")
    if not 2 <= cfg.secondary.folds <= 20:
        raise bad("secondary.folds", cfg.secondary.folds, "an integer from 2 to 20")
    if cfg.secondary.min_events < 0:
        raise bad("secondary.min_events", cfg.secondary.min_events, "an integer >= 0")
    if cfg.seed < 0:
        raise bad("seed", cfg.seed, "an integer >= 0")


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x
