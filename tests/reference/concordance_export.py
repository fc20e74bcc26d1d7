"""Write the inputs of tests/reference/concordance.R (run from the repository root).

Datasets: scikit-survival's flchain, whas500, gbsg2 and NHANES III (survage/data/files). Risk
columns are single covariates (many ties) and fixed linear combinations (few ties), rounded to
10 decimals so that R (whose decimal parser is not correctly rounded in the 17th digit) and Python
read identical numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sksurv.datasets import load_flchain, load_gbsg2, load_whas500

OUT = Path(__file__).resolve().parent


def frames() -> dict[str, pd.DataFrame]:
    """The four (time, status, risk...) tables."""
    X, y = load_flchain()
    fl = pd.DataFrame({"time": y["futime"], "status": y["death"].astype(int), "risk_age": X["age"],
                       "risk_lin": X["age"] / 10 + X["kappa"] + X["lambda"]})
    X, y = load_whas500()
    wh = pd.DataFrame({"time": y["lenfol"], "status": y["fstat"].astype(int), "risk_age": X["age"],
                       "risk_lin": X["age"] / 10 + X["hr"] / 50 - X["bmi"] / 10,
                       "weight": (np.arange(len(X)) % 3 + 1).astype(float)})
    X, y = load_gbsg2()
    gb = pd.DataFrame({"time": y["time"], "status": y["cens"].astype(int), "risk_nodes": X["pnodes"],
                       "risk_lin": X["pnodes"] / 5 + X["tsize"] / 30 - X["progrec"] / 500})
    # a fixed predicted 5-year (1825-day) risk for the Austin calibration check
    gb["pred_risk"] = 0.05 + 0.6 * gb["risk_lin"].rank(method="average") / len(gb)
    d = pd.read_csv(OUT.parents[1] / "survage" / "data" / "files" / "nhanes3.csv.gz",
                    usecols=["time", "permth_int", "status", "age", "phenoage0", "phenoage_advance0"])
    d = d[d["phenoage_advance0"].notna() & d["status"].notna()]
    # ageing-related death: `time` where present else `permth_int`, never beyond month 240
    nh = pd.DataFrame({"time": d["time"].fillna(d["permth_int"]).clip(upper=240.0), "status": d["status"].astype(int),
                       "age": d["age"], "risk_phenoage": d["phenoage0"], "advance": d["phenoage_advance0"]})
    return {"flchain": fl, "whas500": wh, "gbsg2": gb, "nhanes3": nh}


def main() -> None:
    for name, df in frames().items():
        df.reset_index(drop=True).round(10).to_csv(OUT / f"concordance_{name}.csv.gz", index=False,
                                                   float_format="%.15g")


if __name__ == "__main__":
    main()
