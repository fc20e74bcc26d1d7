"""A small Cox proportional-hazards fit (Newton-Raphson, Efron ties) for calibration and hazard ratios.

Cox 1972, J. R. Stat. Soc. B 34(2):187-220, doi:10.1111/j.2517-6161.1972.tb00899.x;
Efron 1977, J. Am. Stat. Assoc. 72(359):557-565, doi:10.1080/01621459.1977.10480613.
Matches R ``coxph(..., ties = "efron")``; the baseline cumulative hazard is the Efron-corrected one
R ``survfit.coxph`` uses for an Efron fit (``ctype = 2``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from survage.errors import SurvageInputError


@dataclass(frozen=True, eq=False)
class CoxFit:
    """Fitted coefficients, their covariance, log partial likelihoods and the baseline hazard."""

    coef: NDArray[np.float64]
    cov: NDArray[np.float64]
    loglik: float
    loglik_null: float
    n_iter: int
    hazard_times: NDArray[np.float64]
    cumhaz: NDArray[np.float64]

    def survival_at(self, t: float, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """``S(t | x) = exp(-H0(t) exp(x @ coef))`` with the Efron baseline of the uncentred ``x``."""
        k = np.searchsorted(self.hazard_times, t, side="right") - 1
        h0 = self.cumhaz[k] if k >= 0 else 0.0
        return np.exp(-h0 * np.exp(np.atleast_2d(x) @ self.coef))


class _EfronTerms:
    """Sorted data and the per-event-term bookkeeping of the Efron partial likelihood."""

    def __init__(self, time: NDArray[np.float64], event: NDArray[np.bool_], x: NDArray[np.float64]) -> None:
        order = np.argsort(time, kind="stable")
        self.t = time[order]
        self.d = event[order]
        self.x = x[order]
        self.uniq, self.first, self.group = np.unique(self.t, return_index=True, return_inverse=True)
        n_g = self.uniq.size
        self.deaths = np.bincount(self.group[self.d], minlength=n_g)
        g_death = np.repeat(np.arange(n_g), self.deaths)
        offsets = np.concatenate(([0], np.cumsum(self.deaths)))[:-1]
        l_idx = np.arange(g_death.size) - np.repeat(offsets, self.deaths)
        self.term_group = g_death
        self.term_frac = l_idx / np.repeat(self.deaths, self.deaths).clip(min=1)

    def _sums(self, v: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Risk-set sums (time >= u_g) and death sums per distinct time of ``v`` (n, ...)."""
        rev = np.cumsum(v[::-1], axis=0)[::-1]
        risk = rev[self.first]
        dead = np.zeros((self.uniq.size,) + v.shape[1:])
        np.add.at(dead, self.group[self.d], v[self.d])
        return risk, dead

    def evaluate(self, beta: NDArray[np.float64]
                 ) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
        eta = self.x @ beta
        r = np.exp(eta)
        x = self.x
        s0r, s0d = self._sums(r)
        s1r, s1d = self._sums(r[:, None] * x)
        s2r, s2d = self._sums(r[:, None, None] * x[:, :, None] * x[:, None, :])
        g, c = self.term_group, self.term_frac
        den = s0r[g] - c * s0d[g]
        s1 = s1r[g] - c[:, None] * s1d[g]
        s2 = s2r[g] - c[:, None, None] * s2d[g]
        loglik = float(eta[self.d].sum() - np.log(den).sum())
        grad = x[self.d].sum(axis=0) - (s1 / den[:, None]).sum(axis=0)
        mean = s1 / den[:, None]
        info = (s2 / den[:, None, None]).sum(axis=0) - np.einsum("ki,kj->ij", mean, mean)
        return loglik, grad, info

    def baseline(self, beta: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        r = np.exp(self.x @ beta)
        s0r, s0d = self._sums(r)
        g, c = self.term_group, self.term_frac
        inc = np.bincount(g, weights=1.0 / (s0r[g] - c * s0d[g]), minlength=self.uniq.size)
        keep = self.deaths > 0
        return self.uniq[keep], np.cumsum(inc)[keep]


def fit_cox(time: NDArray[np.float64], event: NDArray[np.bool_], x: NDArray[np.float64], *,
            max_iter: int = 50, tol: float = 1e-10) -> CoxFit:
    """Maximise the Efron partial likelihood by Newton-Raphson with step halving.

    Parameters
    ----------
    time, event
        Follow-up and event indicator (validated by the caller).
    x
        Covariates ``(n, p)``; centred internally (the coefficients do not change).
    max_iter, tol
        Iteration limit and convergence tolerance on the log-likelihood change.

    Returns
    -------
    CoxFit
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    center = x.mean(axis=0)
    terms = _EfronTerms(time, event, x - center)
    beta = np.zeros(x.shape[1])
    loglik, grad, info = terms.evaluate(beta)
    loglik_null = loglik
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError as exc:
            raise SurvageInputError("Cox model information matrix is singular", column="x",
                                    expected="covariates that vary and are not collinear") from exc
        new = beta + step
        new_ll, new_grad, new_info = terms.evaluate(new)
        halvings = 0
        while not np.isfinite(new_ll) or new_ll < loglik - 1e-12:
            step /= 2
            halvings += 1
            if halvings > 30:
                raise SurvageInputError("Cox model did not converge", column="x",
                                        expected="a finite maximum of the partial likelihood")
            new = beta + step
            new_ll, new_grad, new_info = terms.evaluate(new)
        done = abs(new_ll - loglik) <= tol * max(1.0, abs(new_ll)) and np.max(np.abs(step)) < 1e-8
        beta, loglik, grad, info = new, new_ll, new_grad, new_info
        if done:
            break
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError as exc:
        raise SurvageInputError("Cox model information matrix is singular", column="x",
                                expected="covariates that vary and are not collinear") from exc
    times, cumhaz_centered = terms.baseline(beta)
    # cumhaz was computed with centred covariates: H0_uncentred = H0_centred * exp(-center @ beta)
    cumhaz = cumhaz_centered * np.exp(-center @ beta)
    return CoxFit(beta, cov, loglik, loglik_null, n_iter, times, cumhaz)
