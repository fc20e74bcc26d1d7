"""survage.losses discrete-time wrappers against hand-computed likelihoods.

The reference for each loss is its textbook formula written out per sample in numpy
(Kvamme & Borgan 2021, doi:10.1007/s10985-021-09532-6, eqs. for the logistic-hazard and PMF
parametrisations); the discretisation is checked against pycox LabTransDiscreteTime's
documented rule (events to the right cut, censorings to the left cut).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from survage.errors import SurvageInputError
from survage.losses import discretize_times, logistic_hazard_nll, pmf_nll


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n, m = 25, 6
    logits = rng.normal(size=(n, m))
    interval = rng.integers(0, m, n)
    event = rng.integers(0, 2, n).astype(float)
    return logits, interval, event


def test_logistic_hazard_matches_formula() -> None:
    logits, interval, event = _data()
    h = 1.0 / (1.0 + np.exp(-logits))
    ref = np.array([
        -(np.sum(np.log1p(-h[i, :k])) + (np.log(h[i, k]) if d else np.log1p(-h[i, k])))
        for i, (k, d) in enumerate(zip(interval, event))
    ])
    args = (torch.tensor(logits), torch.tensor(interval), torch.tensor(event))
    per = logistic_hazard_nll(*args, reduction="none").numpy()
    np.testing.assert_allclose(per, ref, rtol=1e-10)
    assert logistic_hazard_nll(*args).item() == pytest.approx(ref.mean(), rel=1e-10)
    assert logistic_hazard_nll(*args, reduction="sum").item() == pytest.approx(ref.sum(), rel=1e-10)


def test_pmf_matches_formula() -> None:
    logits, interval, event = _data(1)
    padded = np.concatenate([logits, np.zeros((logits.shape[0], 1))], axis=1)  # survival past the grid
    p = np.exp(padded) / np.exp(padded).sum(axis=1, keepdims=True)
    ref = np.array([
        -np.log(p[i, k]) if d else -np.log(p[i, k + 1:].sum())
        for i, (k, d) in enumerate(zip(interval, event))
    ])
    per = pmf_nll(torch.tensor(logits), torch.tensor(interval), torch.tensor(event), reduction="none").numpy()
    np.testing.assert_allclose(per, ref, rtol=1e-6)  # pycox adds epsilon=1e-7 inside the survival log


def test_discretize_times_rule_and_reuse() -> None:
    time = np.array([0.0, 0.4, 1.0, 1.5, 2.2, 2.9, 3.0])
    event = np.array([1, 1, 0, 0, 1, 0, 1])
    dt = discretize_times(time, event, np.array([0.0, 1.0, 2.0, 3.0]))
    # events -> first cut >= time, censorings -> last cut <= time
    np.testing.assert_array_equal(dt.interval, [0, 1, 1, 1, 3, 2, 3])
    np.testing.assert_array_equal(dt.event, event.astype(np.float32))
    fitted = discretize_times(time, event, 4)
    np.testing.assert_allclose(fitted.cuts, [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(fitted.interval, dt.interval)
    later = discretize_times(np.array([3.5]), np.array([1]), fitted.cuts)  # beyond the grid: censored
    assert later.event[0] == 0.0 and later.interval[0] == 3


def test_errors() -> None:
    logits = torch.zeros(3, 4)
    with pytest.raises(SurvageInputError, match="interval"):
        logistic_hazard_nll(logits, torch.tensor([0, 4, 1]), torch.tensor([1, 0, 1]))
    with pytest.raises(SurvageInputError, match="event"):
        pmf_nll(logits, torch.tensor([0, 1, 1]), torch.tensor([1, 2, 1]))
    with pytest.raises(SurvageInputError, match="logits"):
        pmf_nll(torch.zeros(3), torch.tensor([0, 1, 1]), torch.tensor([1, 0, 1]))
    with pytest.raises(SurvageInputError, match="cuts"):
        discretize_times(np.array([1.0, 2.0]), np.array([1, 0]), np.array([0.0, 2.0, 1.0]))
    with pytest.raises(SurvageInputError, match="time"):
        discretize_times(np.array([1.0, np.nan]), np.array([1, 0]), 3)


def test_discretize_matches_pycox_labtrans() -> None:
    # pycox LabTransDiscreteTime(20).fit_transform is the reference for the rule and the cuts.
    from pycox.preprocessing.label_transforms import LabTransDiscreteTime

    rng = np.random.default_rng(5)
    time = np.round(rng.exponential(3.0, 500), 1)
    event = rng.integers(0, 2, 500)
    for scheme in ("equidistant", "quantiles"):
        lt = LabTransDiscreteTime(20, scheme=scheme)
        idx, ev = lt.fit_transform(time, event.astype(np.float64))
        ours = discretize_times(time, event, 20, scheme=scheme)  # type: ignore[arg-type]
        np.testing.assert_allclose(ours.cuts, lt.cuts)
        np.testing.assert_array_equal(ours.interval, idx)
        np.testing.assert_array_equal(ours.event, ev)
