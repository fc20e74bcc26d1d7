"""Time-dependent AUC, Brier score and IBS against scikit-survival (surv from a lifelines Cox fit)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survage.errors import SurvageInputError
from survage.metrics import brier_score, integrated_brier_score, time_dependent_auc

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="module", params=["gbsg2", "whas500", "flchain"])
def split(request: pytest.FixtureRequest) -> dict[str, object]:
    from lifelines import CoxPHFitter

    d = pd.read_csv(REF / f"concordance_{request.param}.csv.gz")
    cov = [c for c in d.columns if c.startswith("risk_")]
    d = d[["time", "status", *cov]]
    train = np.random.default_rng(3).random(len(d)) < 0.6
    tr, te = d[train], d[~train]
    te = te[te["time"] < tr["time"].max()]
    cph = CoxPHFitter().fit(tr, "time", "status")
    times = np.quantile(te["time"][te["status"] == 1], [0.1, 0.3, 0.5, 0.7, 0.9])
    return {"tr": tr, "te": te, "times": times, "risk": cph.predict_partial_hazard(te).to_numpy(),
            "surv": cph.predict_survival_function(te, times=times).T.to_numpy()}


def _y(df: pd.DataFrame) -> np.ndarray:
    from sksurv.util import Surv

    return Surv.from_arrays(df["status"].astype(bool), df["time"])


def test_auc_equals_sksurv(split: dict) -> None:
    from sksurv.metrics import cumulative_dynamic_auc

    tr, te = split["tr"], split["te"]
    ref_auc, ref_mean = cumulative_dynamic_auc(_y(tr), _y(te), split["risk"], split["times"])
    ours = time_dependent_auc(tr["time"], tr["status"], te["time"], te["status"], split["risk"], split["times"])
    np.testing.assert_allclose(ours.auc, ref_auc, atol=1e-6)
    assert ours.estimate == pytest.approx(ref_mean, abs=1e-6)
    # time-dependent risk (cumulative hazard per time), as sksurv accepts
    chf = -np.log(split["surv"])
    ref2 = cumulative_dynamic_auc(_y(tr), _y(te), chf, split["times"])
    ours2 = time_dependent_auc(tr["time"], tr["status"], te["time"], te["status"], chf, split["times"])
    np.testing.assert_allclose(ours2.auc, ref2[0], atol=1e-6)


def test_brier_and_ibs_equal_sksurv(split: dict) -> None:
    from sksurv.metrics import brier_score as sk_brier
    from sksurv.metrics import integrated_brier_score as sk_ibs

    tr, te = split["tr"], split["te"]
    ref = sk_brier(_y(tr), _y(te), split["surv"], split["times"])[1]
    ours = brier_score(tr["time"], tr["status"], te["time"], te["status"], split["surv"], split["times"])
    np.testing.assert_allclose(ours.brier, ref, atol=1e-6)
    ibs = integrated_brier_score(tr["time"], tr["status"], te["time"], te["status"], split["surv"], split["times"])
    assert ibs.estimate == pytest.approx(sk_ibs(_y(tr), _y(te), split["surv"], split["times"]), abs=1e-6)


def test_bad_input() -> None:
    t = np.array([1.0, 2.0, 3.0, 4.0])
    e = np.array([1, 0, 1, 0])
    with pytest.raises(SurvageInputError, match="'times'"):
        time_dependent_auc(t, e, t, e, [0.1, 0.2, 0.3, 0.4], [5.0])
    with pytest.raises(SurvageInputError, match="'times'"):
        brier_score(t, e, t, e, np.full((4, 2), 0.5), [2.5, 1.5])
    with pytest.raises(SurvageInputError, match="'surv'"):
        brier_score(t, e, t, e, np.full((4, 2), 1.5), [1.5, 2.5])
    with pytest.raises(SurvageInputError, match="'risk'"):
        time_dependent_auc(t, e, t, e, [0.1, np.nan, 0.3, 0.4], [2.5])
    with pytest.raises(SurvageInputError, match="'times'"):
        integrated_brier_score(t, e, t, e, np.full((4, 1), 0.5), [2.5])
