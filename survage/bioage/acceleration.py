"""Age acceleration: biological minus chronological age, raw or as a residual on age."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from survage.bioage._inputs import as_float_1d, same_length
from survage.errors import SurvageInputError


def age_acceleration(ba: npt.ArrayLike, ca: npt.ArrayLike) -> np.ndarray:
    """Raw age acceleration ``BA - CA`` (years; NaN where either is missing).

    Parameters
    ----------
    ba
        Biological ages.
    ca
        Chronological ages.

    Returns
    -------
    numpy.ndarray

    References
    ----------
    Levine ME et al. Aging 2018;10(4):573-591. doi:10.18632/aging.101414.
    """
    b, c = as_float_1d(ba, "ba"), as_float_1d(ca, "ca")
    same_length(ba=b, ca=c)
    return b - c


class ResidualAcceleration:
    """Age acceleration as the residual of an OLS regression of BA on CA.

    ``accel = BA - (intercept_ + slope_ CA)``; the coefficients are fitted once (e.g. on the
    training or reference population) and applied unchanged to new data, so accelerations
    from different data sets are on the same scale. This is PhenoAgeAccel of Levine et al.
    (2018) and the "advance" residual of Kwon & Belsky (2021).

    Attributes
    ----------
    intercept_, slope_ : float
        OLS coefficients of BA on CA.
    n_ : int
        Rows used (complete pairs).

    References
    ----------
    Levine ME et al. Aging 2018;10(4):573-591. doi:10.18632/aging.101414.
    Kwon D, Belsky DW. GeroScience 2021;43:2795-2808. doi:10.1007/s11357-021-00480-5.
    """

    def fit(self, ba: npt.ArrayLike, ca: npt.ArrayLike) -> ResidualAcceleration:
        """Fit BA = intercept + slope CA by OLS on the complete pairs; returns ``self``."""
        b, c = as_float_1d(ba, "ba"), as_float_1d(ca, "ca")
        same_length(ba=b, ca=c)
        ok = ~(np.isnan(b) | np.isnan(c))
        if ok.sum() < 2 or np.ptp(c[ok]) == 0:
            raise SurvageInputError(
                "need at least 2 complete pairs with varying chronological age", column="ca",
                expected="varying ages",
            )
        cc = c[ok] - c[ok].mean()
        self.slope_ = float(cc @ (b[ok] - b[ok].mean()) / (cc @ cc))
        self.intercept_ = float(b[ok].mean() - self.slope_ * c[ok].mean())
        self.n_ = int(ok.sum())
        return self

    def transform(self, ba: npt.ArrayLike, ca: npt.ArrayLike) -> np.ndarray:
        """Residual acceleration with the fitted coefficients (NaN where BA or CA is missing)."""
        if not hasattr(self, "slope_"):
            raise SurvageInputError("ResidualAcceleration is not fitted", expected="call fit() first")
        b, c = as_float_1d(ba, "ba"), as_float_1d(ca, "ca")
        same_length(ba=b, ca=c)
        return b - (self.intercept_ + self.slope_ * c)

    def fit_transform(self, ba: npt.ArrayLike, ca: npt.ArrayLike) -> np.ndarray:
        """:meth:`fit` then :meth:`transform` on the same data."""
        return self.fit(ba, ca).transform(ba, ca)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable coefficients."""
        return {"type": "ResidualAcceleration", "intercept": self.intercept_, "slope": self.slope_, "n": self.n_}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResidualAcceleration:
        """Rebuild from :meth:`to_dict` output."""
        obj = cls()
        obj.intercept_, obj.slope_, obj.n_ = float(data["intercept"]), float(data["slope"]), int(data["n"])
        return obj


class ResidualAccelerationFit(NamedTuple):
    """Residual accelerations and the fitted regression that produced them."""

    acceleration: np.ndarray
    model: ResidualAcceleration


def residual_acceleration(ba: npt.ArrayLike, ca: npt.ArrayLike) -> ResidualAccelerationFit:
    """Fit :class:`ResidualAcceleration` on (BA, CA) and return the residuals with the model.

    Use ``result.model.transform(ba_new, ca_new)`` to apply the same coefficients to new data.
    """
    model = ResidualAcceleration().fit(ba, ca)
    return ResidualAccelerationFit(model.transform(ba, ca), model)
