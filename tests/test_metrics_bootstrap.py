"""Bootstrap: the reweighted fast path equals resampling rows; paired differences; seeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survage.errors import SurvageInputError
from survage.metrics import bootstrap_ci, harrell_c, paired_bootstrap, uno_c

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def whas() -> pd.DataFrame:
    return pd.read_csv(REF / "concordance_whas500.csv.gz")


def test_weighted_replicates_equal_resampled_rows(whas: pd.DataFrame) -> None:
    kw = {"time": whas["time"].to_numpy(), "event": whas["status"].to_numpy(), "risk": whas["risk_lin"].to_numpy()}
    fast = bootstrap_ci(harrell_c, n_boot=100, seed=7, **kw)
    # a statistic function forces the generic path: recompute C on resampled rows with the same draws
    slow = bootstrap_ci(harrell_c, n_boot=100, seed=7, statistic=lambda r: r.estimate, **kw)
    np.testing.assert_allclose(fast.replicates, slow.replicates, atol=1e-12)
    # a replicate by hand: the first draw of the generator
    idx = np.random.default_rng(7).integers(0, len(whas), len(whas))
    first = harrell_c(kw["time"][idx], kw["event"][idx], kw["risk"][idx]).estimate
    assert fast.replicates[0] == pytest.approx(first, abs=1e-12)
    assert fast.lower < fast.estimate < fast.upper
    assert fast.estimate == pytest.approx(harrell_c(**kw).estimate, abs=0)


def test_bootstrap_se_matches_large_sample_se() -> None:
    # reference: the sampling SD of a pure-noise C over 200 independent noise draws (Monte Carlo)
    rng = np.random.default_rng(0)
    n = 2000
    t = rng.exponential(size=n)
    e = np.ones(n, bool)
    boot = bootstrap_ci(harrell_c, time=t, event=e, risk=rng.normal(size=n), n_boot=400, seed=1)
    spread = np.std([harrell_c(t, e, rng.normal(size=n)).estimate for _ in range(200)], ddof=1)
    assert boot.se == pytest.approx(spread, rel=0.25)


def test_paired_bootstrap(whas: pd.DataFrame) -> None:
    t, e = whas["time"].to_numpy(), whas["status"].to_numpy()
    res = paired_bootstrap(harrell_c, time=t, event=e, a={"risk": whas["risk_lin"].to_numpy()},
                           b={"risk": whas["risk_age"].to_numpy()}, n_boot=300, seed=3)
    assert res.difference == pytest.approx(res.estimate_a - res.estimate_b, abs=0)
    assert res.lower <= res.difference <= res.upper
    same = paired_bootstrap(harrell_c, time=t, event=e, a={"risk": whas["risk_lin"].to_numpy()},
                            b={"risk": whas["risk_lin"].to_numpy()}, n_boot=50, seed=3)
    assert np.all(same.replicates == 0) and same.p_value == 1.0
    # generic path (Uno C with training weights) runs and is reproducible with the seed
    kw = {"train_time": t, "train_event": e, "time": t, "event": e, "tau": 1500.0}
    u1 = paired_bootstrap(uno_c, a={"risk": whas["risk_lin"].to_numpy()}, b={"risk": whas["risk_age"].to_numpy()},
                          n_boot=20, seed=np.random.default_rng(5), **kw)
    u2 = paired_bootstrap(uno_c, a={"risk": whas["risk_lin"].to_numpy()}, b={"risk": whas["risk_age"].to_numpy()},
                          n_boot=20, seed=5, **kw)
    np.testing.assert_array_equal(u1.replicates, u2.replicates)


def test_bad_input(whas: pd.DataFrame) -> None:
    with pytest.raises(SurvageInputError, match="'n_boot'"):
        bootstrap_ci(harrell_c, time=whas["time"], event=whas["status"], risk=whas["risk_lin"], n_boot=1, seed=0)
    with pytest.raises(SurvageInputError, match="'b'"):
        paired_bootstrap(harrell_c, time=whas["time"], event=whas["status"], a={"risk": whas["risk_lin"]},
                         b={"score": whas["risk_lin"]}, seed=0)
