"""Calibration: lifelines' ICI/E50, Austin et al. 2020 (vs R and on simulated data), in-the-large, slope, D-cal."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survage.errors import SurvageInputError
from survage.metrics import (
    calibration_austin,
    calibration_in_the_large,
    calibration_lifelines,
    calibration_slope,
    d_calibration,
)

REF = Path(__file__).parent / "reference"
R = json.loads((REF / "concordance.json").read_text())


@pytest.fixture(scope="module")
def simulated() -> dict[str, np.ndarray]:
    """Exponential model: true risk by t=5 is 1 - exp(-5 * 0.1 exp(lp)); censoring U(0, 20), admin 10."""
    rng = np.random.default_rng(11)
    n = 30_000
    lp = rng.normal(0.0, 0.8, n)
    lam = 0.1 * np.exp(lp)
    t_true = rng.exponential(1.0 / lam)
    cens = np.minimum(rng.uniform(0.0, 20.0, n), 10.0)
    return {"time": np.minimum(t_true, cens), "event": t_true <= cens, "p": 1.0 - np.exp(-lam * 5.0),
            "lam": lam}


def test_lifelines_variant_matches_lifelines() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from lifelines import CoxPHFitter
    from lifelines.calibration import survival_probability_calibration

    d = pd.read_csv(REF / "concordance_gbsg2.csv.gz")[["time", "status", "risk_nodes", "risk_lin"]]
    d["time"] = d["time"] / 365.25  # years, as inside survage
    cph = CoxPHFitter().fit(d, "time", "status")
    for t0 in (2.0, 5.0):
        with contextlib.redirect_stdout(io.StringIO()):
            _, ici, e50 = survival_probability_calibration(cph, d, t0)
        plt.close("all")
        surv = cph.predict_survival_function(d, times=[t0]).to_numpy()[0]
        ours = calibration_lifelines(d["time"], d["status"], t=t0, surv_at_t=surv)
        assert ours.ici == pytest.approx(ici, abs=1e-3)
        assert ours.e50 == pytest.approx(e50, abs=1e-3)
        assert ours.method == "lifelines_crc_spline"


def test_austin_equals_r_coxph_spline() -> None:
    # R (tests/reference/concordance.R): coxph(Surv(time, status) ~ x + s) with s Harrell's RCS term of
    # x = cloglog(pred_risk), knots quantile(x, c(.05, .5, .95)); observed = 1 - survfit(fit, newdata) at 1825
    d = pd.read_csv(REF / "concordance_gbsg2.csv.gz")
    res = calibration_austin(d["time"], d["status"], t=1825.0, risk_at_t=d["pred_risk"])
    ref = R["austin/gbsg2/1825"]
    for key in ("ici", "e50", "e90", "emax"):
        assert getattr(res, key) == pytest.approx(ref[key], abs=1e-8)
    assert res.observed[0] == pytest.approx(ref["observed_first"], abs=1e-8)
    assert res.method == "austin_rcs_cox"


@pytest.mark.parametrize("transform", ["perfect", "cloglog_shift", "cloglog_slope", "power"])
def test_austin_recovers_known_ici(simulated: dict, transform: str) -> None:
    p = simulated["p"]
    pred = {
        "perfect": p,
        "cloglog_shift": 1.0 - (1.0 - p) ** np.exp(0.3),
        "cloglog_slope": 1.0 - np.exp(-np.exp(0.2 + 0.7 * np.log(-np.log1p(-p)))),
        "power": p**0.8,
    }[transform]
    known = float(np.mean(np.abs(pred - p)))  # the true ICI, from the simulated true risks
    res = calibration_austin(simulated["time"], simulated["event"], t=5.0, risk_at_t=pred)
    assert res.ici == pytest.approx(known, abs=0.005)
    assert res.curve_predicted.shape == res.curve_observed.shape == (100,)


def test_calibration_in_the_large_uses_kaplan_meier(simulated: dict) -> None:
    from lifelines import KaplanMeierFitter

    km = KaplanMeierFitter().fit(simulated["time"], simulated["event"])
    res = calibration_in_the_large(simulated["time"], simulated["event"], t=5.0, risk_at_t=simulated["p"])
    assert res.observed == pytest.approx(1.0 - float(km.survival_function_at_times(5.0).iloc[0]), abs=1e-12)
    assert res.expected == pytest.approx(simulated["p"].mean(), abs=1e-12)
    assert res.ratio == pytest.approx(1.0, abs=0.02)  # perfectly calibrated by construction


def test_calibration_slope(simulated: dict) -> None:
    p = simulated["p"]
    good = calibration_slope(simulated["time"], simulated["event"], t=5.0, risk_at_t=p)
    assert good.ci[0] < 1.0 < good.ci[1]
    # cloglog(pred) = 0.2 + 0.7 cloglog(p): the true slope on cloglog(pred) is 1 / 0.7
    shrunk = 1.0 - np.exp(-np.exp(0.2 + 0.7 * np.log(-np.log1p(-p))))
    res = calibration_slope(simulated["time"], simulated["event"], t=5.0, risk_at_t=shrunk)
    assert res.slope == pytest.approx(1.0 / 0.7, abs=3 * res.se)


def test_d_calibration(simulated: dict) -> None:
    # true survival at each own time: exp(-lam * time); uniform under the true model
    s_own = np.exp(-simulated["lam"] * simulated["time"])
    good = d_calibration(simulated["event"], s_own)
    assert good.df == 9
    assert good.p_value > 0.001
    assert good.bin_proportions.sum() == pytest.approx(1.0, abs=1e-12)
    bad = d_calibration(simulated["event"], s_own**2)
    assert bad.p_value < 1e-6
    # hand-worked example: event at S=0.55 -> bin 5; censored at S=0.5 -> 0.2 to each of bins 0-4
    small = d_calibration([1, 0], [0.55, 0.5])
    np.testing.assert_allclose(small.bin_proportions * 2, [0.2] * 5 + [1.0] + [0.0] * 4, atol=1e-12)


def test_bad_input() -> None:
    t = np.array([1.0, 2.0, 3.0])
    with pytest.raises(SurvageInputError, match="'risk_at_t'"):
        calibration_austin(t, [1, 0, 1], t=2.0, risk_at_t=[0.1, 1.2, 0.3])
    with pytest.raises(SurvageInputError, match="'risk_at_t'"):
        calibration_austin(t, [1, 0, 1], t=2.0)
    with pytest.raises(SurvageInputError, match="'surv_at_own_time'"):
        d_calibration([1, 0], [0.5])
