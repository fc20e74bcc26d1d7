"""Klemera-Doubal biological age (KDM), sex-specific, as computed by the BioAge R package.

Reference: Klemera P, Doubal S. A new approach to the concept and computation of biological age.
Mech Ageing Dev 2006;127(3):240-248. doi:10.1016/j.mad.2005.10.005.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from survage.bioage._inputs import GroupLabel, group_codes, numeric_column, require_columns
from survage.errors import SurvageInputError

#: The nine biomarkers of BioAge's ``kdm0`` (NHANES III column names).
KDM_BIOMARKERS: tuple[str, ...] = (
    "fev", "sbp", "totchol", "hba1c", "albumin", "creat", "lncrp", "alp", "bun",
)


def _resolve(frame: pd.DataFrame, spec: str | npt.ArrayLike | None, name: str) -> np.ndarray | None:
    """A column name of ``frame`` or an array with one entry per row."""
    if spec is None:
        return None
    if isinstance(spec, str):
        require_columns(frame, [spec], f"KlemeraDoubal ({name})")
        return frame[spec].to_numpy()
    arr = np.asarray(spec)
    if arr.shape != (len(frame),):
        raise SurvageInputError(
            f"{name} has shape {arr.shape} for {len(frame)} rows", column=name, expected=f"({len(frame)},)"
        )
    return arr


class KlemeraDoubal:
    """Klemera-Doubal biological age estimator (per sex), BioAge's recipe.

    Fitting, per sex on the training rows:

    1. For each biomarker j, OLS ``x_j = q_j + k_j age`` on the rows where x_j is present;
       ``s_j`` = residual standard error ``sqrt(RSS / (n_j - 2))``, ``r_j`` = R^2.
    2. ``r_char = sum_j |k_j/s_j| sqrt(r_j) / sum_j |k_j/s_j|`` and
       ``s_r = (1 - r_char^2) / r_char^2 * (age_max - age_min)^2 / (12 m)``.
    3. ``BA_E = sum_j (x_j - q_j) k_j / s_j^2 / sum_j (k_j / s_j)^2``.
    4. ``s_BA^2 = var(BA_E - CA) - s_r`` (sample variance over complete training rows).

    Prediction: ``KDM = (num + CA / s_BA^2) / (den + 1 / s_BA^2)`` with
    ``num = sum_j (x_j - q_j) k_j / s_j^2`` and ``den = sum_j (k_j / s_j)^2``; NaN unless all
    biomarkers and age are present.

    Parameters
    ----------
    biomarkers
        Biomarker columns (default :data:`KDM_BIOMARKERS`, BioAge's ``kdm0`` set).
    age_range
        Training rows are restricted to ``age_range[0] <= age <= age_range[1]`` (BioAge: 30-75);
        None uses all rows.
    pregnant_column
        When not None, training rows are restricted to ``frame[pregnant_column] == 0``; a missing
        value is excluded, as in BioAge (``filter(pregnant == 0)`` in R).

    Attributes
    ----------
    groups_ : list
        Sex labels (``[None]`` when fitted without ``sex``).
    q_, k_, s_, r2_ : dict
        Per sex, arrays (one entry per biomarker) of intercepts, slopes, residual SDs and R^2.
    r_char_, s_r_, s_ba2_ : dict
        Per sex, the characteristic correlation, ``s_r`` and ``s_BA^2``.
    n_train_, n_complete_ : dict
        Per sex, training rows and complete training rows.

    References
    ----------
    Klemera P, Doubal S. Mech Ageing Dev 2006;127(3):240-248. doi:10.1016/j.mad.2005.10.005.
    Levine ME. Modeling the rate of senescence: can estimated biological age predict mortality
    more accurately than chronological age? J Gerontol A 2013;68(6):667-674.
    doi:10.1093/gerona/gls233.
    Kwon D, Belsky DW. A toolkit for quantification of biological age from blood chemistry and
    organ function test data: BioAge. GeroScience 2021;43:2795-2808.
    doi:10.1007/s11357-021-00480-5.
    """

    def __init__(
        self,
        biomarkers: Sequence[str] = KDM_BIOMARKERS,
        *,
        age_range: tuple[float, float] | None = (30.0, 75.0),
        pregnant_column: str | None = "pregnant",
    ) -> None:
        self.biomarkers = tuple(biomarkers)
        self.age_range = age_range
        self.pregnant_column = pregnant_column

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        frame: pd.DataFrame,
        *,
        age: str | npt.ArrayLike = "age",
        sex: str | npt.ArrayLike | None = "gender",
    ) -> KlemeraDoubal:
        """Fit per sex on the training rows of ``frame``.

        Parameters
        ----------
        frame
            One row per person with the biomarker columns.
        age
            Column name or array of chronological ages (years).
        sex
            Column name or array of sex labels (NHANES: 1 male, 2 female); None fits one pooled
            model. Rows with missing sex are not used.

        Returns
        -------
        KlemeraDoubal
            ``self``, fitted.
        """
        if len(self.biomarkers) < 1:
            raise SurvageInputError("no biomarkers given", expected="at least one biomarker")
        require_columns(frame, self.biomarkers, "KlemeraDoubal.fit")
        x = np.column_stack([numeric_column(frame, c) for c in self.biomarkers])
        ages = np.asarray(_resolve(frame, age, "age"), dtype=float)
        labels, codes = group_codes(_resolve(frame, sex, "sex"), len(frame), name="sex")
        train = ~np.isnan(ages) & (codes >= 0)
        if self.age_range is not None:
            train &= (ages >= self.age_range[0]) & (ages <= self.age_range[1])
        if self.pregnant_column is not None:
            require_columns(frame, [self.pregnant_column], "KlemeraDoubal.fit")
            train &= numeric_column(frame, self.pregnant_column) == 0
        self.groups_: list[GroupLabel] = labels
        self.q_: dict[GroupLabel, np.ndarray] = {}
        self.k_: dict[GroupLabel, np.ndarray] = {}
        self.s_: dict[GroupLabel, np.ndarray] = {}
        self.r2_: dict[GroupLabel, np.ndarray] = {}
        self.r_char_: dict[GroupLabel, float] = {}
        self.s_r_: dict[GroupLabel, float] = {}
        self.s_ba2_: dict[GroupLabel, float] = {}
        self.n_train_: dict[GroupLabel, int] = {}
        self.n_complete_: dict[GroupLabel, int] = {}
        for g, label in enumerate(labels):
            rows = train & (codes == g)
            self._fit_group(label, x[rows], ages[rows])
        return self

    def _fit_group(self, label: GroupLabel, x: np.ndarray, ages: np.ndarray) -> None:
        m = x.shape[1]
        q, k, s, r2 = (np.empty(m) for _ in range(4))
        for j in range(m):
            ok = ~np.isnan(x[:, j])
            n_j = int(ok.sum())
            if n_j < 3:
                raise SurvageInputError(
                    f"too few training rows for biomarker (sex {label!r}): {n_j}",
                    column=self.biomarkers[j],
                    expected="at least 3 non-missing values",
                )
            a, y = ages[ok], x[ok, j]
            a_c, y_c = a - a.mean(), y - y.mean()
            sxx = a_c @ a_c
            if sxx <= 0:
                raise SurvageInputError("age does not vary in the training rows", column="age")
            k[j] = (a_c @ y_c) / sxx
            q[j] = y.mean() - k[j] * a.mean()
            resid = y - q[j] - k[j] * a
            rss = resid @ resid
            s[j] = np.sqrt(rss / (n_j - 2))
            r2[j] = 1.0 - rss / (y_c @ y_c)
        w = np.abs(k / s)
        r_char = float(np.sum(w * np.sqrt(r2)) / np.sum(w))
        s_r = float((1 - r_char**2) / r_char**2 * (ages.max() - ages.min()) ** 2 / (12 * m))
        complete = ~np.isnan(x).any(axis=1)
        if complete.sum() < 2:
            raise SurvageInputError(
                f"fewer than 2 complete training rows (sex {label!r})", expected="complete rows"
            )
        den = np.sum((k / s) ** 2)
        ba_e = ((x[complete] - q) * k / s**2).sum(axis=1) / den
        s2 = float(np.var(ba_e - ages[complete], ddof=1))
        s_ba2 = s2 - s_r
        if s_ba2 <= 0:
            raise SurvageInputError(
                f"s_BA^2 = {s_ba2:.4g} <= 0 (sex {label!r}): the biomarkers explain age too well or "
                "too poorly for the KDM correction",
                expected="var(BA_E - CA) > s_r",
            )
        self.q_[label], self.k_[label], self.s_[label], self.r2_[label] = q, k, s, r2
        self.r_char_[label], self.s_r_[label], self.s_ba2_[label] = r_char, s_r, s_ba2
        self.n_train_[label], self.n_complete_[label] = int(len(ages)), int(complete.sum())

    # --------------------------------------------------------------- prediction
    def _check_fitted(self) -> None:
        if not hasattr(self, "s_ba2_"):
            raise SurvageInputError("KlemeraDoubal is not fitted", expected="call fit() first")

    def predict(
        self,
        frame: pd.DataFrame,
        *,
        age: str | npt.ArrayLike = "age",
        sex: str | npt.ArrayLike | None = "gender",
    ) -> pd.Series:
        """KDM biological age (years) for every row of ``frame``.

        Parameters
        ----------
        frame
            Rows to score, with the biomarker columns.
        age, sex
            As in :meth:`fit`. ``sex`` must be given when the model was fitted per sex.

        Returns
        -------
        pandas.Series
            Named ``"kdm"``, indexed like ``frame``; NaN where a biomarker, age or sex is missing.
        """
        self._check_fitted()
        require_columns(frame, self.biomarkers, "KlemeraDoubal.predict")
        x = np.column_stack([numeric_column(frame, c) for c in self.biomarkers])
        ages = np.asarray(_resolve(frame, age, "age"), dtype=float)
        if self.groups_ == [None]:
            sex = None
        _, codes = group_codes(_resolve(frame, sex, "sex"), len(frame), known=self.groups_, name="sex")
        out = np.full(len(frame), np.nan)
        for g, label in enumerate(self.groups_):
            rows = codes == g
            q, k, s, sba2 = self.q_[label], self.k_[label], self.s_[label], self.s_ba2_[label]
            num = ((x[rows] - q) * k / s**2).sum(axis=1)
            den = np.sum((k / s) ** 2)
            out[rows] = (num + ages[rows] / sba2) / (den + 1.0 / sba2)
        return pd.Series(out, index=frame.index, name="kdm")

    # ------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable description of the fitted model (see :meth:`from_dict`)."""
        self._check_fitted()
        return {
            "type": "KlemeraDoubal",
            "biomarkers": list(self.biomarkers),
            "age_range": None if self.age_range is None else [float(a) for a in self.age_range],
            "pregnant_column": self.pregnant_column,
            "groups": [
                {
                    "sex": label,
                    "q": self.q_[label].tolist(),
                    "k": self.k_[label].tolist(),
                    "s": self.s_[label].tolist(),
                    "r2": self.r2_[label].tolist(),
                    "r_char": self.r_char_[label],
                    "s_r": self.s_r_[label],
                    "s_ba2": self.s_ba2_[label],
                    "n_train": self.n_train_[label],
                    "n_complete": self.n_complete_[label],
                }
                for label in self.groups_
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KlemeraDoubal:
        """Rebuild a fitted model from :meth:`to_dict` output."""
        if data.get("type") != "KlemeraDoubal":
            raise SurvageInputError("not a KlemeraDoubal description", column="type", expected="'KlemeraDoubal'")
        age_range = data["age_range"]
        model = cls(
            data["biomarkers"],
            age_range=None if age_range is None else (age_range[0], age_range[1]),
            pregnant_column=data["pregnant_column"],
        )
        model.groups_ = []
        model.q_, model.k_, model.s_, model.r2_ = {}, {}, {}, {}
        model.r_char_, model.s_r_, model.s_ba2_ = {}, {}, {}
        model.n_train_, model.n_complete_ = {}, {}
        for g in data["groups"]:
            label = g["sex"]
            model.groups_.append(label)
            for attr, key in (("q_", "q"), ("k_", "k"), ("s_", "s"), ("r2_", "r2")):
                getattr(model, attr)[label] = np.asarray(g[key], dtype=float)
            model.r_char_[label] = float(g["r_char"])
            model.s_r_[label] = float(g["s_r"])
            model.s_ba2_[label] = float(g["s_ba2"])
            model.n_train_[label] = int(g["n_train"])
            model.n_complete_[label] = int(g["n_complete"])
        return model
