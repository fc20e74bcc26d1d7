"""Gompertz reference curve ``h(a) = exp(alpha + beta a)`` fitted by maximum likelihood."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from survage.bioage.reference import HazardReference
from survage.errors import SurvageInputError

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(32)
_GL_NODES = 0.5 * (_GL_NODES + 1.0)
_GL_WEIGHTS = 0.5 * _GL_WEIGHTS


def _moments(z_entry: np.ndarray, z_exit: np.ndarray, beta: float) -> tuple[float, float, float]:
    """``sum_i int_{e_i}^{x_i} z^k exp(beta z) dz`` for k = 0, 1, 2 (Gauss-Legendre, 32 nodes)."""
    length = z_exit - z_entry
    z = z_entry[:, None] + length[:, None] * _GL_NODES[None, :]
    w = length[:, None] * _GL_WEIGHTS[None, :] * np.exp(beta * z)
    return float(w.sum()), float((w * z).sum()), float((w * z * z).sum())


def _fit_gompertz(entry: np.ndarray, exit_: np.ndarray, event: np.ndarray) -> dict[str, Any]:
    """ML fit of ``log h(a) = a0 + beta (a - c)`` with delayed entry, c = mean entry age.

    The log-likelihood ``sum_i d_i (a0 + beta z_i) - exp(a0) sum_i int_{e_i}^{x_i} exp(beta z)``
    is profiled over a0 (``exp(a0) = D / S0(beta)``); the profile is concave in beta, so Newton
    steps with halving converge from beta = 0.
    """
    c = float(entry.mean())
    ze, zx = entry - c, exit_ - c
    d_total = float(event.sum())
    sd = float(event @ zx)
    beta = 0.0

    def profile(b: float) -> float:
        s0 = _moments(ze, zx, b)[0]
        return d_total * np.log(d_total / s0) + b * sd - d_total

    current = profile(beta)
    converged = False
    for _ in range(200):
        s0, s1, s2 = _moments(ze, zx, beta)
        grad = sd - d_total * s1 / s0
        curv = d_total * (s2 / s0 - (s1 / s0) ** 2)
        step = grad / curv
        for _ in range(60):
            candidate = profile(beta + step)
            if np.isfinite(candidate) and candidate >= current - 1e-12 * abs(current):
                break
            step *= 0.5
        beta += step
        current = profile(beta)
        if abs(step) < 1e-13 * (1.0 + abs(beta)):
            converged = True
            break
    if not converged:
        raise SurvageInputError("Gompertz fit did not converge", expected="data with an age gradient in mortality")
    s0, s1, s2 = _moments(ze, zx, beta)
    a0 = float(np.log(d_total / s0))
    info = np.exp(a0) * np.array([[s0, s1], [s1, s2]])
    cov_centred = np.linalg.inv(info)
    jac = np.array([[1.0, -c], [0.0, 1.0]])  # alpha = a0 - beta c
    return {
        "alpha": a0 - beta * c,
        "beta": float(beta),
        "cov": jac @ cov_centred @ jac.T,
        "loglik": float(current),
    }


class GompertzReference(HazardReference):
    """Gompertz reference mortality curve in attained age, ``h(a) = exp(alpha + beta a)``.

    Fitted by maximum likelihood with delayed entry (entry = age at baseline, exit = age +
    follow-up), optionally per group. Over a horizon tau,
    ``H_ref(A, tau) = exp(alpha + beta A) (exp(beta tau) - 1) / beta``, inverted in closed form
    by :meth:`age_for_hazard`: ``A = (log(H beta / (exp(beta tau) - 1)) - alpha) / beta``.

    Attributes
    ----------
    alpha_, beta_ : numpy.ndarray, shape (n_groups,)
        Log-hazard intercept (at age 0) and slope per year, in the order of ``groups_``.
    cov_ : numpy.ndarray, shape (n_groups, 2, 2)
        Inverse observed information of (alpha, beta) at the MLE.
    loglik_ : numpy.ndarray, shape (n_groups,)
        Maximised log-likelihood per group.
    groups_, age_range_, n_, n_events_
        See :class:`~survage.bioage.reference.HazardReference`.

    References
    ----------
    Gompertz B. On the nature of the function expressive of the law of human mortality. Phil
    Trans R Soc 1825;115:513-583. doi:10.1098/rstl.1825.0026.
    Levine ME et al. Aging 2018;10(4):573-591. doi:10.18632/aging.101414.
    """

    def _fit_group(self, entry: np.ndarray, exit_: np.ndarray, event: np.ndarray) -> dict[str, Any]:
        return _fit_gompertz(entry, exit_, event)

    def _store_attributes(self) -> None:
        self.alpha_ = np.array([p["alpha"] for p in self._params])
        self.beta_ = np.array([p["beta"] for p in self._params])
        self.cov_ = np.array([p["cov"] for p in self._params])
        self.loglik_ = np.array([p["loglik"] for p in self._params])

    def _log_hazard(self, p: dict[str, Any], age: np.ndarray) -> np.ndarray:
        return p["alpha"] + p["beta"] * age

    def _cumhaz(self, p: dict[str, Any], age: np.ndarray, horizon: float) -> np.ndarray:
        beta = p["beta"]
        factor = np.expm1(beta * horizon) / beta if beta != 0 else horizon
        return np.exp(p["alpha"] + beta * age) * factor

    def _invert(self, p: dict[str, Any], cumhaz: np.ndarray, horizon: float, start: np.ndarray) -> np.ndarray:
        beta = p["beta"]
        if beta <= 0:
            raise SurvageInputError(
                f"Gompertz beta = {beta:.4g} <= 0: hazard does not increase with age, no age mapping",
                expected="beta > 0",
            )
        return (np.log(cumhaz * beta / np.expm1(beta * horizon)) - p["alpha"]) / beta

    def table(self) -> pd.DataFrame:
        """Fitted parameters with standard errors, one row per group."""
        self._check_fitted()
        return pd.DataFrame(
            {
                "group": self.groups_,
                "alpha": self.alpha_,
                "beta": self.beta_,
                "se_alpha": np.sqrt(self.cov_[:, 0, 0]),
                "se_beta": np.sqrt(self.cov_[:, 1, 1]),
                "n": self.n_,
                "events": self.n_events_,
                "age_min": self.age_range_[:, 0],
                "age_max": self.age_range_[:, 1],
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable description (see :meth:`from_dict`)."""
        self._check_fitted()
        return {
            "type": "GompertzReference",
            "groups": [
                {
                    "group": label,
                    "alpha": p["alpha"],
                    "beta": p["beta"],
                    "cov": np.asarray(p["cov"]).tolist(),
                    "loglik": p["loglik"],
                    "age_range": self.age_range_[g].tolist(),
                    "n": int(self.n_[g]),
                    "n_events": int(self.n_events_[g]),
                }
                for g, (label, p) in enumerate(zip(self.groups_, self._params))
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GompertzReference:
        """Rebuild a fitted reference from :meth:`to_dict` output."""
        if data.get("type") != "GompertzReference":
            raise SurvageInputError("not a GompertzReference description", column="type")
        ref = cls()
        groups = data["groups"]
        ref.groups_ = [g["group"] for g in groups]
        ref._params = [
            {"alpha": float(g["alpha"]), "beta": float(g["beta"]), "cov": np.asarray(g["cov"], dtype=float),
             "loglik": float(g["loglik"])}
            for g in groups
        ]
        ref.age_range_ = np.asarray([g["age_range"] for g in groups], dtype=float)
        ref.n_ = np.asarray([g["n"] for g in groups], dtype=int)
        ref.n_events_ = np.asarray([g["n_events"] for g in groups], dtype=int)
        ref._store_attributes()
        return ref
