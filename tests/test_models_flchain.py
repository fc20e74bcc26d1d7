"""Default SurvivalModel on scikit-survival's flchain against lifelines' Cox model on the same split."""

from __future__ import annotations

import numpy as np
import pytest
from lifelines import CoxPHFitter
from lifelines.utils import concordance_index
from sklearn.model_selection import train_test_split

from survage.data.benchmarks import load_flchain
from survage.models import SurvivalModel


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_default_model_concordance_at_least_lifelines_cox():
    cohort = load_flchain()  # chapter (cause of death) is outcome data, never a feature
    time, event = cohort.time("death"), cohort.event("death")
    train, test = train_test_split(np.arange(cohort.n), test_size=0.3, stratify=event, random_state=0)
    # peer: lifelines CoxPHFitter on the raw covariates, creatinine imputed with the training median
    cols = ["age", "sex", "kappa", "lambda", "creatinine", "flc_grp", "mgus"]
    df = cohort.frame[cols].copy()
    df["creatinine"] = df["creatinine"].fillna(df["creatinine"].iloc[train].median())
    df["t"], df["e"] = time, event
    cph = CoxPHFitter().fit(df.iloc[train], "t", "e")
    c_peer = concordance_index(time[test], -np.asarray(cph.predict_log_partial_hazard(df.iloc[test])), event[test])
    assert c_peer == pytest.approx(0.7896, abs=2e-3)  # lifelines 0.30.3 on this split
    model = SurvivalModel().fit(cohort.subset(train))
    risk = model.predict_risk(cohort.subset(test))
    c_model = concordance_index(time[test], -risk, event[test])
    assert c_model >= c_peer
    surv = model.predict_survival(cohort.subset(test), [1.0, 5.0, 10.0])
    assert surv.shape == (len(test), 3) and np.all(np.diff(surv, axis=1) <= 0)
