"""Harrell's and Uno's C against R survival::concordance, lifelines and scikit-survival."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survage.errors import SurvageInputError
from survage.metrics import harrell_c, uno_c

REF = Path(__file__).parent / "reference"
R = json.loads((REF / "concordance.json").read_text())


def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"concordance_{name}.csv.gz")


# R: concordance(Surv(time, status) ~ risk, data = d, reverse = TRUE)  (tests/reference/concordance.R)
@pytest.mark.parametrize("key", [k for k in R if k.count("/") == 1 and not k.startswith(("coxph", "austin"))])
def test_harrell_c_equals_r_concordance(key: str) -> None:
    name, risk = key.split("/")
    d = _data(name)
    res = harrell_c(d["time"], d["status"], d[risk])
    ref = R[key]
    assert res.estimate == pytest.approx(ref["estimate"], abs=1e-9)
    assert res.concordant == ref["concordant"]
    assert res.discordant == ref["discordant"]
    assert res.tied_risk == ref["tied_risk"]


def test_weighted_harrell_c_equals_r() -> None:
    # R: concordance(Surv(time, status) ~ risk_lin, data = whas500, reverse = TRUE, weights = weight)
    d = _data("whas500")
    res = harrell_c(d["time"], d["status"], d["risk_lin"], weights=d["weight"])
    ref = R["whas500/risk_lin/weighted"]
    assert res.estimate == pytest.approx(ref["estimate"], abs=1e-9)
    assert res.concordant == pytest.approx(ref["concordant"], rel=1e-12)
    # integer weights equal duplicated rows
    rep = d.loc[d.index.repeat(d["weight"].astype(int))]
    assert harrell_c(rep["time"], rep["status"], rep["risk_lin"]).estimate == pytest.approx(res.estimate, abs=1e-12)


def test_harrell_c_equals_lifelines_and_sksurv() -> None:
    from lifelines.utils import concordance_index
    from sksurv.metrics import concordance_index_censored

    d = _data("gbsg2")
    res = harrell_c(d["time"], d["status"], d["risk_nodes"])
    assert res.estimate == pytest.approx(concordance_index(d["time"], -d["risk_nodes"], d["status"]), abs=1e-12)
    sk = concordance_index_censored(d["status"].astype(bool).values, d["time"].values, d["risk_nodes"].values)
    assert res.estimate == pytest.approx(sk[0], abs=1e-12)
    assert (res.concordant, res.discordant, res.tied_risk) == (sk[1], sk[2], sk[3])


@pytest.mark.parametrize(("name", "risk", "tau_q"), [("gbsg2", "risk_lin", 0.8), ("whas500", "risk_age", 0.9),
                                                     ("flchain", "risk_lin", 0.7), ("nhanes3", "risk_phenoage", 0.9), ("whas500", "risk_lin", None)])
def test_uno_c_equals_sksurv(name: str, risk: str, tau_q: float | None) -> None:
    from sksurv.metrics import concordance_index_ipcw
    from sksurv.util import Surv

    d = _data(name)
    train = np.random.default_rng(0).random(len(d)) < 0.5
    tr, te = d[train], d[~train]
    te = te[te["time"] <= tr["time"].max()]
    tau = None if tau_q is None else float(np.quantile(te["time"], tau_q))
    ours = uno_c(tr["time"], tr["status"], te["time"], te["status"], te[risk], tau)
    ref = concordance_index_ipcw(Surv.from_arrays(tr["status"].astype(bool), tr["time"]),
                                 Surv.from_arrays(te["status"].astype(bool), te["time"]), te[risk].values, tau)
    assert ours.estimate == pytest.approx(ref[0], abs=1e-6)
    assert ours.method == "uno"


def test_bad_input_raises_naming_argument() -> None:
    t = np.array([1.0, 2.0, 3.0])
    e = np.array([1, 0, 1])
    with pytest.raises(SurvageInputError, match="'risk'"):
        harrell_c(t, e, [0.1, np.nan, 0.3])
    with pytest.raises(SurvageInputError, match="'risk'"):
        harrell_c(t, e, [0.1, 0.2])
    with pytest.raises(SurvageInputError, match="'event'.*no events|no events.*'event'"):
        harrell_c(t, [0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(SurvageInputError, match="comparable"):
        harrell_c([1.0, 1.0], [1, 1], [0.1, 0.2])  # tied event times: no comparable pair
    with pytest.raises(SurvageInputError, match="'time'"):
        uno_c([1.0, 2.0], [0, 1], [1.0, 5.0], [1, 1], [0.2, 0.1])  # beyond training follow-up


survival_rows = st.integers(min_value=2, max_value=60).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(1, 15), min_size=n, max_size=n),
        st.lists(st.booleans(), min_size=n, max_size=n),
        st.lists(st.integers(-1000, 1000), min_size=n, max_size=n, unique=True),
    )
)


@settings(max_examples=60, deadline=None)
@given(survival_rows)
def test_c_properties(rows: tuple[list[int], list[bool], list[float]]) -> None:
    t, e, r = (np.asarray(v, dtype=float) for v in rows)
    try:
        res = harrell_c(t, e, r)
    except SurvageInputError:
        return  # no events or no comparable pairs
    assert 0.0 <= res.estimate <= 1.0
    # invariant to strictly increasing transforms of the risk
    assert harrell_c(t, e, np.exp(r / 100.0) * 3 + 1).estimate == pytest.approx(res.estimate, abs=1e-12)
    # negating the risk (no ties) gives 1 - C
    assert harrell_c(t, e, -r).estimate == pytest.approx(1.0 - res.estimate, abs=1e-12)
    # brute-force pair count
    conc = disc = 0
    for i in range(len(t)):
        for j in range(len(t)):
            if e[i] and (t[j] > t[i] or (t[j] == t[i] and not e[j])):
                conc += r[i] > r[j]
                disc += r[i] < r[j]
    assert (res.concordant, res.discordant) == (conc, disc)
