"""``SurvivalModel``: multimodal Cox (DeepSurv) / Gompertz survival network as an estimator.

One shared encoder (an MLP branch per tabular modality, a CNN ``ImageEncoder`` for the
``ct_image`` modality, concat or gated fusion under a per-row presence mask, modality dropout in
training) and one head per outcome. Images are streamed from disk per mini-batch
(:mod:`survage.models.image_inputs`). ``linear=True`` removes
the hidden layers: a plain Cox (or Gompertz) regression on the preprocessed features, fitted by
preconditioned full-batch L-BFGS in float64 (:mod:`survage.models.linear_fit`; R ``coxph``
estimates to 1e-8 on rossi).

References: Cox (1972) doi:10.1111/j.2517-6161.1972.tb00899.x; Katzman et al. (2018) DeepSurv,
doi:10.1186/s12874-018-0482-1; Breslow (1972) doi:10.1111/j.2517-6161.1972.tb00900.x.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split

from survage.data.cohort import Cohort
from survage.data.preprocessing import CohortPreprocessor
from survage.data.splits import strata_labels
from survage.errors import SurvageInputError
from survage.losses import expm1_ratio
from survage.models import model_io
from survage.models.arrays import ARRAY_MODALITY, cohort_from_arrays
from survage.models.baseline_hazard import breslow_cumulative_hazard, step_at
from survage.models.distributed import rank_and_world
from survage.models.image_inputs import (IMAGE_BATCH_SIZE, IMAGE_MODALITY, ImageSettings, StreamedTensors,
                                         image_paths, swap_in_image_branch)
from survage.models.linear_fit import fit_linear
from survage.models.targets import outcome_targets
from survage.models.training import Callback, Tensors, TrainData, TrainSpec, forward_all, train
from survage.nn.heads import GompertzHead
from survage.nn.network import MultimodalSurvivalNet, build_network

_PARAMS = ("outcomes", "modalities", "head", "hidden", "dropout", "fusion", "modality_dropout", "weight_decay",
           "lr", "max_epochs", "batch_size", "patience", "validation_fraction", "seed", "ties", "linear",
           "embedding", "baseline_ties", "device", "image_backbone", "image_size", "image_pixdim",
           "image_hu_window", "image_augment", "image_workers", "clip_to_training_range")


class SurvivalModel:
    """Multimodal survival network with Cox or Gompertz heads, one per outcome.

    Parameters
    ----------
    outcomes
        Outcomes to model (one head each; the loss is the sum of the per-outcome mean losses).
        An outcome declaring ``competing`` outcomes is fitted as a cause-specific hazard (see
        :mod:`survage.models.targets`).
    modalities
        Modalities of the cohort used as inputs (each gets its own branch): tabular ones (an MLP
        each) and ``"ct_image"`` (an ``ImageEncoder``; the cohort's image-path column, blank =
        no image).
    head
        ``"cox"`` (DeepSurv: log relative hazard, Breslow baseline) or ``"gompertz"``
        (``h(t) = exp(a(x) + b t)``, ``t`` follow-up in years, shared ``b > 0``).
    hidden
        Hidden widths of each modality branch.
    dropout
        Dropout in the branches.
    fusion
        ``"concat"`` or ``"gated"``.
    modality_dropout
        Probability of hiding each present modality per row in training (never all of a row's).
    weight_decay
        AdamW decoupled weight decay; with ``linear=True`` an L2 penalty
        ``weight_decay / 2 * ||w||^2`` added to the mean loss (``w``: the coefficients,
        including the effect of an absent modality, which stays finite when only censored
        people lack the modality).
    lr
        Learning rate (AdamW); ignored for ``linear``.
    max_epochs
        Maximum number of epochs (``linear``: at most ``20 * max_epochs`` L-BFGS iterations;
        a linear fit usually converges in 10-40).
    batch_size
        ``None`` (default): full batch, or :data:`~survage.models.image_inputs.IMAGE_BATCH_SIZE`
        (256) people for image models, which always train in mini-batches. Mini-batch Cox
        losses use risk sets within the batch: batches should hold many events (image models:
        256-512 people for cohorts with 5-20 % events).
    patience
        Epochs without a lower validation loss before stopping (not used by ``linear``).
    validation_fraction
        Fraction of the training cohort held out (stratified by event status and age band,
        with ``seed``) for early stopping when no ``validation`` cohort is given; 0 = none.
        A ``linear`` model (a convex fit, run to convergence) does not stop early: the rows
        are held out all the same and their loss is reported in ``history_``.
    seed
        Drives the split, initialisation, dropout, modality dropout and batch order. The global
        torch RNG state is restored after ``fit``.
    ties
        ``"efron"`` or ``"breslow"`` handling of tied event times in the Cox loss.
    linear
        No hidden layer: the head is linear in the preprocessed features.
    embedding
        Branch output width (default: last hidden width).
    baseline_ties
        Estimator of the baseline cumulative hazard: ``"breslow"`` or ``"efron"``.
    device
        Torch device string (``"cpu"``, ``"cuda"``, ``"cuda:1"``).
    image_backbone
        Backbone of the image branch: ``"small"`` (four convolution blocks, fast on CPU),
        ``"resnet18"`` or ``"densenet121"``. Its embedding width is the tabular branches' width.
    image_size
        Spatial size the images are padded/cropped to, MONAI axis order (2 values: slices).
    image_pixdim
        Spacing (mm) the images are resampled to before padding/cropping, ``None`` = native.
        Downsampling keeps physical sizes: e.g. 256-pixel slices of up to 50 cm field of view
        read at ``(8, 8)`` into ``(64, 64)``.
    image_hu_window
        HU range mapped to [0, 1].
    image_augment
        Probability of each random transform (affine, Gaussian noise, flip) in training; 0 =
        none. Never applied when scoring.
    image_workers
        ``DataLoader`` worker processes reading images (0: the training process reads them).
    clip_to_training_range
        Clip each tabular feature of new data to its training minimum and maximum before
        preprocessing (for transport to other surveys: a network extrapolates without bound
        outside the values it was fitted on). Off by default.
    """

    def __init__(self, outcomes: Sequence[str] = ("death",), modalities: Sequence[str] = ("demographics", "clinical"),
                 head: Literal["cox", "gompertz"] = "cox", hidden: Sequence[int] = (64,), dropout: float = 0.1,
                 fusion: Literal["concat", "gated"] = "concat", modality_dropout: float = 0.1,
                 weight_decay: float = 1e-4, lr: float = 1e-2, max_epochs: int = 500, batch_size: int | None = None,
                 patience: int = 20, validation_fraction: float = 0.15, seed: int = 0,
                 ties: Literal["efron", "breslow"] = "efron", linear: bool = False, embedding: int | None = None,
                 baseline_ties: Literal["breslow", "efron"] = "breslow", device: str = "cpu",
                 image_backbone: Literal["small", "resnet18", "densenet121"] = "small",
                 image_size: Sequence[int] = (64, 64), image_pixdim: Sequence[float] | None = None,
                 image_hu_window: Sequence[float] = (-1000.0, 1000.0), image_augment: float = 0.5,
                 image_workers: int = 0, clip_to_training_range: bool = False) -> None:
        self.outcomes = tuple(outcomes)
        self.modalities = tuple(modalities)
        self.head = head
        self.hidden = tuple(int(h) for h in hidden)
        self.dropout = float(dropout)
        self.fusion = fusion
        self.modality_dropout = float(modality_dropout)
        self.weight_decay = float(weight_decay)
        self.lr = float(lr)
        self.max_epochs = int(max_epochs)
        self.batch_size = None if batch_size is None else int(batch_size)
        self.patience = int(patience)
        self.validation_fraction = float(validation_fraction)
        self.seed = int(seed)
        self.ties = ties
        self.linear = bool(linear)
        self.embedding = None if embedding is None else int(embedding)
        self.baseline_ties = baseline_ties
        self.device = device
        self.image_backbone = image_backbone
        self.image_size = tuple(int(v) for v in image_size)
        self.image_pixdim = None if image_pixdim is None else tuple(float(v) for v in image_pixdim)
        self.image_hu_window = tuple(float(v) for v in image_hu_window)
        self.image_augment = float(image_augment)
        self.image_workers = int(image_workers)
        self.clip_to_training_range = bool(clip_to_training_range)

    # ------------------------------------------------------------------ parameters
    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (JSON-ready)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in ((k, getattr(self, k)) for k in _PARAMS)}

    def _check_params(self) -> None:
        checks = [
            (self.head in ("cox", "gompertz"), "head", "'cox' or 'gompertz'"),
            (self.fusion in ("concat", "gated"), "fusion", "'concat' or 'gated'"),
            (self.ties in ("efron", "breslow"), "ties", "'efron' or 'breslow'"),
            (self.baseline_ties in ("efron", "breslow"), "baseline_ties", "'efron' or 'breslow'"),
            (0 <= self.dropout < 1, "dropout", "0 <= dropout < 1"),
            (0 <= self.modality_dropout < 1, "modality_dropout", "0 <= modality_dropout < 1"),
            (0 <= self.validation_fraction < 1, "validation_fraction", "0 <= fraction < 1"),
            (self.max_epochs >= 1, "max_epochs", ">= 1"), (self.patience >= 1, "patience", ">= 1"),
            (self.lr > 0, "lr", "> 0"), (self.weight_decay >= 0, "weight_decay", ">= 0"),
            (self.batch_size is None or self.batch_size >= 2, "batch_size", "None or >= 2"),
            (len(self.outcomes) >= 1, "outcomes", "at least one outcome"),
            (len(self.modalities) >= 1, "modalities", "at least one modality"),
            (IMAGE_MODALITY not in self.modalities or not self.linear, "linear",
             "linear=False when the modalities include 'ct_image'"),
        ]
        for ok, name, expected in checks:
            if not ok:
                raise SurvageInputError(f"bad value {getattr(self, name)!r} for {name}", column=name, expected=expected)
        if IMAGE_MODALITY in self.modalities:
            self.image_settings.check()

    @property
    def image_settings(self) -> ImageSettings:
        """How the ``ct_image`` modality is read and encoded."""
        return ImageSettings(backbone=self.image_backbone, size=self.image_size, pixdim=self.image_pixdim,
                             hu_window=(self.image_hu_window[0], self.image_hu_window[-1]),
                             augment=self.image_augment, workers=self.image_workers)

    @property
    def uses_images_(self) -> bool:
        """Whether the fitted modalities include the CT image."""
        return IMAGE_MODALITY in getattr(self, "modalities_", ())

    @property
    def dtype_(self) -> torch.dtype:
        """Computation dtype: float64 for ``linear`` models, float32 otherwise."""
        return torch.float64 if self.linear else torch.float32

    # ------------------------------------------------------------------ data
    def _tensors(self, cohort: Cohort, *, targets: bool) -> TrainData:
        inputs, present = self.preprocessor_.transform(cohort.frame)
        dev = torch.device(self.device)
        paths: list[str | None] = []
        if self.uses_images_:
            if IMAGE_MODALITY not in cohort.modalities or len(cohort.modalities[IMAGE_MODALITY]) != 1:
                raise SurvageInputError("the model reads CT images but the cohort has no image-path column",
                                        column=IMAGE_MODALITY, expected="a 'ct_image' modality with one path column")
            paths = image_paths(cohort.frame, cohort.modalities[IMAGE_MODALITY][0])
            present[IMAGE_MODALITY] = np.array([p is not None for p in paths], dtype=bool)
        tabular = [m for m in self.modalities_ if m != IMAGE_MODALITY]
        data = Tensors({m: torch.as_tensor(inputs[m], dtype=self.dtype_, device=dev) for m in tabular},
                       torch.as_tensor(np.column_stack([present[m] for m in self.modalities_]).reshape(
                           cohort.n, len(self.modalities_)), device=dev))
        if targets:
            for o in self.outcomes:
                t, e = outcome_targets(cohort, o)
                ok = np.isfinite(t) & np.isfinite(e)
                data.time[o] = torch.as_tensor(np.where(ok, t, 0.0), dtype=self.dtype_, device=dev)
                data.event[o] = torch.as_tensor(np.where(ok, e, 0.0), dtype=self.dtype_, device=dev)
                data.at_risk[o] = torch.as_tensor(ok, device=dev)
        if self.uses_images_:
            batch = self.batch_size or IMAGE_BATCH_SIZE
            return StreamedTensors(data, paths, self.modalities_.index(IMAGE_MODALITY), self.image_settings,
                                   eval_batch=max(batch, IMAGE_BATCH_SIZE))
        return data

    def _split(self, cohort: Cohort) -> tuple[np.ndarray, np.ndarray]:
        idx = np.arange(cohort.n)
        if self.validation_fraction == 0:
            return idx, idx[:0]
        strata = strata_labels(cohort.event(self.outcomes[0]), cohort.ages())
        tr, va = train_test_split(idx, test_size=self.validation_fraction, stratify=strata, random_state=self.seed)
        return np.sort(tr), np.sort(va)

    # ------------------------------------------------------------------ fit
    def fit(self, cohort: Cohort, validation: Cohort | None = None, *, checkpoint_dir: str | Path | None = None,
            resume: bool = False, callback: Callback | None = None) -> "SurvivalModel":
        """Fit on ``cohort`` (early stopping on ``validation`` or an internal stratified split).

        Parameters
        ----------
        cohort
            Training cohort. Preprocessing and the baseline hazard use its training rows only.
        validation
            Optional validation cohort for early stopping (then no internal split is made).
        checkpoint_dir
            Folder for the resumable training state (written atomically after every epoch);
            ``linear`` models fit in one step and write none.
        resume
            Continue from the state in ``checkpoint_dir`` when there is one; the result is
            identical to an uninterrupted run.
        callback
            Called as ``callback(epoch, record)`` after each epoch (after its state is saved).

        Returns
        -------
        SurvivalModel
            ``self``, with ``network_``, ``preprocessor_``, ``baseline_``, ``history_``.
        """
        return self._fit(cohort, validation, tuple(self.modalities), checkpoint_dir, resume, callback)

    def fit_arrays(self, X: np.ndarray | pd.DataFrame, time: np.ndarray, event: np.ndarray, *,
                   feature_names: Sequence[str] | None = None, **kwargs: Any) -> "SurvivalModel":
        """Fit on plain arrays (one modality ``"tabular"``); predict with :func:`cohort_from_arrays`.

        ``time`` in years. Needs a single outcome; ``kwargs`` go to :meth:`fit`.
        """
        if len(self.outcomes) != 1:
            raise SurvageInputError("fit_arrays needs exactly one outcome", column="outcomes", expected="one outcome")
        cohort = cohort_from_arrays(X, time, event, feature_names=feature_names, outcome=self.outcomes[0])
        return self._fit(cohort, kwargs.pop("validation", None), (ARRAY_MODALITY,), kwargs.pop("checkpoint_dir", None),
                         kwargs.pop("resume", False), kwargs.pop("callback", None))

    def _fit(self, cohort: Cohort, validation: Cohort | None, modalities: tuple[str, ...],
             checkpoint_dir: str | Path | None, resume: bool, callback: Callback | None) -> "SurvivalModel":
        self._check_params()
        for o in self.outcomes:
            cohort.outcome(o)
        missing = [m for m in modalities if m not in cohort.modalities]
        if missing:
            raise SurvageInputError(f"modality {missing[0]!r} not in the cohort", column=missing[0],
                                    expected=f"one of {sorted(cohort.modalities)}")
        self.modalities_ = modalities
        if validation is None:
            tr, va = self._split(cohort)
            train_c, val_c = cohort.subset(tr), (cohort.subset(va) if va.size else None)
        else:
            tr, va = np.arange(cohort.n), np.array([], dtype=int)
            train_c, val_c = cohort, validation
        self.preprocessor_ = CohortPreprocessor.for_cohort(
            train_c, modalities, clip_to_training_range=self.clip_to_training_range).fit(train_c.frame)
        self.feature_names_ = {m: p.output_names_ for m, p in self.preprocessor_.modalities.items()}
        self.in_features_ = {m: len(v) for m, v in self.feature_names_.items()}
        train_all = self._tensors(train_c, targets=True)
        for o in self.outcomes:
            if float(train_all.event[o][train_all.at_risk[o]].sum()) == 0:
                raise SurvageInputError(f"no events of {o!r} among the training rows", column=o,
                                        expected="at least one event")
        val_data = self._tensors(val_c, targets=True) if val_c is not None else None
        rank, world = rank_and_world()
        shard = train_all.take(torch.arange(rank, train_all.n, world)) if world > 1 else train_all
        batch_size = self.batch_size or (IMAGE_BATCH_SIZE if self.uses_images_ else None)
        spec = TrainSpec(lr=self.lr, weight_decay=self.weight_decay, max_epochs=self.max_epochs,
                         batch_size=batch_size, patience=self.patience, ties=self.ties)
        fingerprint = {"params": self.get_params(), "modalities": list(modalities), "world": world,
                       "data": _digest(train_all, val_data)}
        device = torch.device(self.device)
        devices = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.seed)
            net = self._build().to(device=device, dtype=self.dtype_)
            if self.linear:  # convex: one preconditioned L-BFGS run on all training rows (every rank)
                result = fit_linear(net, train_all, val_data, spec)  # type: ignore[arg-type]
                if callback is not None:
                    callback(0, result.history[0])
            else:
                result = train(net, shard, val_data, spec, device=device,
                               checkpoint_dir=Path(checkpoint_dir) if checkpoint_dir is not None else None,
                               resume=resume, fingerprint=fingerprint, callback=callback)
        net.eval()
        self.network_ = net
        self.history_ = result.history
        self.best_epoch_ = result.best_epoch
        self.n_epochs_ = result.n_epochs
        self.train_rows_, self.validation_rows_ = tr, va
        self.baseline_ = self._baselines(train_all) if self.head == "cox" else {}
        return self

    def _build(self) -> MultimodalSurvivalNet:
        # mask column order = modalities_; the image gets a placeholder width-1 input, swapped below
        widths = {m: (1 if m == IMAGE_MODALITY else self.in_features_[m]) for m in self.modalities_}
        net = build_network(widths, self.outcomes, head=self.head, hidden=self.hidden,
                            dropout=self.dropout, fusion=self.fusion, modality_dropout=self.modality_dropout,
                            embedding=self.embedding, linear=self.linear)
        if IMAGE_MODALITY in self.modalities_:
            swap_in_image_branch(net, self.image_settings, dropout=self.dropout)
        return net

    @torch.no_grad()
    def _baselines(self, data: TrainData) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        self.network_.eval()
        out = forward_all(self.network_, data)
        base = {}
        for o in self.outcomes:
            ar = data.at_risk[o].cpu().numpy()
            base[o] = breslow_cumulative_hazard(data.time[o].cpu().numpy()[ar], data.event[o].cpu().numpy()[ar],
                                                out[o].double().cpu().numpy()[ar], ties=self.baseline_ties)
        return base

    # ------------------------------------------------------------------ predict
    def _check_fitted(self) -> None:
        if not hasattr(self, "network_"):
            raise SurvageInputError("model used before fit", expected="fit() or SurvivalModel.load() first")

    def _outcome(self, outcome: str | None) -> str:
        name = self.outcomes[0] if outcome is None else outcome
        if name not in self.outcomes:
            raise SurvageInputError(f"the model has no outcome {name!r}", column="outcome",
                                    expected=f"one of {list(self.outcomes)}")
        return name

    @torch.no_grad()
    def _scores(self, cohort: Cohort) -> dict[str, torch.Tensor]:
        self._check_fitted()
        data = self._tensors(cohort, targets=False)
        self.network_.eval()
        return forward_all(self.network_, data)

    def predict_risk(self, cohort: Cohort, outcome: str | None = None) -> np.ndarray:
        """Risk score per person (log hazard; Gompertz: log scale), higher = worse, ``(n,)``."""
        o = self._outcome(outcome)
        return self._scores(cohort)[o].double().cpu().numpy()

    def predict_cumulative_hazard(self, cohort: Cohort, times: Sequence[float] | np.ndarray,
                                  outcome: str | None = None) -> np.ndarray:
        """Cumulative hazard ``(n_samples, n_times)`` at ``times`` (years since baseline).

        Cox: ``H0(t) exp(eta)`` with the Breslow ``H0`` of the training rows (a step function;
        constant after the last training event time). Gompertz: ``exp(a) (exp(b t) - 1) / b``.
        For a cause-specific outcome this is the cause-specific cumulative hazard.
        """
        o = self._outcome(outcome)
        t = np.atleast_1d(np.asarray(times, dtype=float))
        if t.ndim != 1 or not np.all(np.isfinite(t)) or np.any(t < 0):
            raise SurvageInputError("times must be finite and >= 0", column="times", expected="a 1-D array of times")
        score = self._scores(cohort)[o].double().cpu()
        if self.head == "cox":
            h0 = step_at(*self.baseline_[o], t)
            return np.exp(score.numpy())[:, None] * h0[None, :]
        head = self.network_.heads[o]
        assert isinstance(head, GompertzHead)
        b = head.shape_b.detach().double().cpu()
        return (torch.exp(score)[:, None] * expm1_ratio(b, torch.as_tensor(t))[None, :]).numpy()

    def predict_survival(self, cohort: Cohort, times: Sequence[float] | np.ndarray,
                         outcome: str | None = None) -> np.ndarray:
        """Survival probability ``exp(-H)``, ``(n_samples, n_times)``."""
        return np.exp(-self.predict_cumulative_hazard(cohort, times, outcome))

    def coefficients(self, outcome: str | None = None) -> pd.Series:
        """Coefficients of a ``linear`` model on the raw feature scale, indexed by feature name.

        A standardised column's coefficient is divided by its training SD (so it is per unit of
        the raw column, per log-unit for log-transformed columns); one-hot and missingness
        indicator coefficients are per indicator.
        """
        self._check_fitted()
        if not self.linear:
            raise SurvageInputError("coefficients exist only for linear models", column="linear", expected="linear=True")
        w = self.network_.heads[self._outcome(outcome)].linear.weight.detach().double().cpu().numpy().ravel()
        names, scale = [], []
        for m in self.modalities_:
            for s in self.preprocessor_.modalities[m].specs_:
                for name in s.output_names():
                    names.append(name)
                    scale.append(s.scale if (s.categories is None and name == s.name) else 1.0)
        return pd.Series(w / np.asarray(scale), index=names, name="coef")

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | Path) -> Path:
        """Write ``model.safetensors`` + ``model.json`` into ``directory`` (atomically); return it."""
        self._check_fitted()
        return model_io.save_model(self, Path(directory))

    @classmethod
    def load(cls, directory: str | Path) -> "SurvivalModel":
        """Rebuild a saved model without executing code; a bad file raises SurvageInputError."""
        return model_io.load_model(cls, Path(directory))


def _digest(train_data: TrainData, val_data: TrainData | None) -> str:
    h = hashlib.sha256()
    for data in (train_data, val_data):
        if data is None:
            continue
        if isinstance(data, StreamedTensors):  # images: their paths (the files are not hashed)
            h.update("\n".join("" if p is None else p for p in data.paths).encode())
            data = data.table
        for m in sorted(data.inputs):
            h.update(data.inputs[m].cpu().numpy().tobytes())
        for o in sorted(data.time):
            h.update(data.time[o].cpu().numpy().tobytes())
            h.update(data.event[o].cpu().numpy().tobytes())
    return h.hexdigest()

