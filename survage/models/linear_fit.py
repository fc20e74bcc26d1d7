"""Fit of a ``linear`` :class:`~survage.models.SurvivalModel`: preconditioned full-batch L-BFGS-B.

A linear network (identity branches, concat fusion with a learned embedding for an absent
modality, one Cox or Gompertz head per outcome) scores person ``i`` as ``eta_i = z_i' w`` (plus
an intercept for Gompertz heads), with ``z_i`` the preprocessed features of the modalities
the person has (0 for an absent one) and one indicator per modality that some training rows
lack (its coefficient is the absent modality's contribution ``w_m' e_m``, ``e_m`` the learned
embedding).

The objective is the network's training loss, the sum over outcomes of the mean negative log
(partial) likelihood, plus the ridge ``weight_decay / 2 ||w||^2``: a convex problem. It is
minimised in whitened coordinates ``w = P v``, ``P = V (Lambda + weight_decay I)^{-1/2}`` from
the eigendecomposition ``V Lambda V'`` of the covariance of ``z`` over the outcome's rows, so
that the Hessian is close to the identity whatever the scales or the collinearity of the
columns (many missingness indicators of laboratory values are nearly identical). L-BFGS-B
(scipy; float64 values and gradients from torch autograd) then converges in a few dozen
iterations, where plain L-BFGS on the raw parameters needed hundreds of iterations on NHANES
III and still had not converged. Directions without variance on the outcome's rows (constant
or exactly collinear columns) carry no coefficient (the minimum-norm solution, which is also
the ridge solution's subspace). The sort and tie structure of each Cox outcome is computed
once, not per evaluation.

References: Cox (1972) doi:10.1111/j.2517-6161.1972.tb00899.x; Efron (1977)
doi:10.1080/01621459.1977.10480613; Liu & Nocedal (1989), L-BFGS,
doi:10.1007/BF01589116; Byrd, Lu, Nocedal & Zhu (1995), L-BFGS-B, doi:10.1137/0916069; Nocedal & Wright (2006), Numerical Optimization, ch. 5 and 7
(preconditioning by a change of variables), doi:10.1007/978-0-387-40065-5; Hoerl & Kennard
(1970), ridge, doi:10.1080/00401706.1970.10488634.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import minimize
from torch import Tensor, nn

from survage.errors import SurvageInputError
from survage.losses import gompertz_nll
from survage.losses.cox_terms import CoxTerms, Layout, make_layout
from survage.models.training import Tensors, TrainResult, TrainSpec, evaluate_loss
from survage.nn.fusion import ConcatFusion
from survage.nn.heads import GompertzHead

#: L-BFGS iterations per ``max_epochs`` unit (the historical "outer step of up to 20 iterations")
ITERATIONS_PER_EPOCH = 20
#: stop when the largest gradient component (whitened coordinates) is at most this
TOLERANCE_GRAD = 1e-9
#: stop when an iteration lowers the loss by less than this, relative (about 5 float64 ulps)
TOLERANCE_CHANGE = 1e-15
#: converged when the largest gradient component is at most this at the end
CONVERGED_GRAD = 1e-6
#: eigenvalues of the covariance below this fraction of the largest are treated as 0
_RANK_TOL = 1e-10


@dataclass
class Design:
    """The linear design of a set of people for a linear network.

    ``z`` ``(n, q)``: per modality (in the network's order) its columns where present and 0
    where absent, then one 0/1 "absent" indicator per modality in ``absent_modalities``.
    """

    z: Tensor
    modalities: list[str]
    widths: list[int]
    absent_modalities: list[str]


@dataclass
class LinearFitInfo:
    """What the optimiser did: iterations, function evaluations, final gradient, convergence."""

    n_iter: int
    n_eval: int
    grad_max: float
    converged: bool
    rank: int


def is_linear_network(net: nn.Module) -> bool:
    """Whether ``net`` is what ``build_network(..., linear=True)`` builds (identity branches)."""
    branches = getattr(net, "branches", None)
    return (branches is not None and isinstance(getattr(net, "fusion", None), ConcatFusion)
            and getattr(net.fusion, "missing", None) == "learned"
            and all(isinstance(b.net, nn.Identity) for b in branches.values()))


def build_design(net: nn.Module, data: Tensors, absent_modalities: list[str] | None = None) -> Design:
    """The design ``z`` of ``data`` (see :class:`Design`); indicators for modalities some rows lack."""
    mods = list(net.branches.keys())  # type: ignore[union-attr]
    mask = data.mask.to(torch.bool)
    parts, widths = [], []
    for j, m in enumerate(mods):
        x = data.inputs[m].to(torch.float64)
        parts.append(torch.where(mask[:, j:j + 1], x, torch.zeros((), dtype=x.dtype, device=x.device)))
        widths.append(int(x.shape[1]))
    if absent_modalities is None:
        absent_modalities = [m for j, m in enumerate(mods) if not bool(mask[:, j].all())]
    for m in absent_modalities:
        parts.append((~mask[:, mods.index(m)]).to(torch.float64).unsqueeze(1))
    z = torch.cat(parts, dim=1) if parts else torch.zeros((data.n, 0), dtype=torch.float64)
    return Design(z, mods, widths, list(absent_modalities))


def whitening(z: Tensor, ridge: float) -> tuple[Tensor, Tensor]:
    """Column means ``mu`` and the map ``P`` ``(q, k)`` with ``P' (C + ridge I) P = I`` on C's range.

    ``C`` is the covariance of ``z``; eigen-directions with a variance below ``1e-10`` of the
    largest are left out (``k`` = the numerical rank).
    """
    if z.shape[0] == 0:
        return z.new_zeros(z.shape[1]), z.new_zeros((z.shape[1], 0))
    mu = z.mean(0)
    zc = z - mu
    cov = zc.T @ zc / max(z.shape[0], 1)
    lam, vec = torch.linalg.eigh(cov)
    top = float(lam.max()) if lam.numel() else 0.0
    keep = lam > _RANK_TOL * max(top, 1e-300)
    lam, vec = lam[keep], vec[:, keep]
    return mu, vec / torch.sqrt(lam + ridge)


class _Outcome:
    """Rows, targets, whitened design and the fixed Cox layout of one outcome."""

    def __init__(self, name: str, head: nn.Module, data: Tensors, z: Tensor, ties: str, ridge: float) -> None:
        ar = data.at_risk[name]
        self.name, self.head = name, head
        self.gompertz = isinstance(head, GompertzHead)
        z_ar = z[ar]
        # whitened on this outcome's rows: a column constant on them gets no coefficient
        self.mu, self.p_map = whitening(z_ar, ridge)
        self.zw = (z_ar - self.mu) @ self.p_map
        self.gram = self.p_map.T @ self.p_map  # ||w||^2 = ||P v||^2 = v' (P'P) v
        self.time = data.time[name][ar].to(torch.float64)
        self.event = data.event[name][ar].to(torch.float64)
        self.n = int(z_ar.shape[0])
        self.n_events = float(self.event.sum())
        self.efron = ties == "efron"
        self.layout: Layout | None = None
        if not self.gompertz and self.n_events > 0:
            self.layout = make_layout(self.time, self.event > 0, None, None, self.efron)

    @property
    def k(self) -> int:
        """Number of whitened coordinates (the rank of the design on this outcome's rows)."""
        return int(self.p_map.shape[1])

    def loss(self, eta: Tensor, raw_shape: Tensor | None) -> Tensor:
        """Mean negative log (partial) likelihood at scores ``eta`` (0 without rows or events)."""
        if self.gompertz:
            if self.n == 0:
                return eta.sum() * 0.0
            b = nn.functional.softplus(raw_shape)  # type: ignore[arg-type]
            return gompertz_nll(eta, b, self.time, self.event, reduction="sum") / self.n
        if self.layout is None:
            return eta.sum() * 0.0
        return CoxTerms.apply(eta, self.layout, self.efron).sum() / self.n_events


def fit_linear(net: nn.Module, train_data: Tensors, val_data: Tensors | None, spec: TrainSpec) -> TrainResult:
    """Fit the linear ``net`` in place on ``train_data`` (all its rows, every rank the same).

    Minimises the sum over outcomes of the mean loss plus ``spec.weight_decay / 2 ||w||^2``
    (``w``: the coefficients of the features and of the absent-modality indicators) by L-BFGS
    in whitened coordinates, at most ``ITERATIONS_PER_EPOCH * spec.max_epochs`` iterations, and
    writes the coefficients back into the heads and the learned absent-modality embeddings.
    When one embedding cannot give every outcome its fitted absent-modality effect (more
    outcomes than the modality has columns), that modality's indicator is left out and the
    model refitted (an absent modality then contributes 0).

    Returns
    -------
    TrainResult
        One history record (``epoch`` 0, ``train_loss`` without the penalty, ``val_loss`` when
        ``val_data`` is given, ``n_iter``, ``n_eval``, ``grad_max``, ``converged``).
    """
    if not is_linear_network(net):
        raise SurvageInputError("fit_linear needs a network built with linear=True", column="linear",
                                expected="identity branches and concat fusion")
    design = build_design(net, train_data)
    while True:
        solution = _solve(net, design, train_data, spec)
        bad = _write_back(net, design, solution)
        if not bad:
            break
        design = build_design(net, train_data, [m for m in design.absent_modalities if m not in bad])
    info = solution.info
    if not info.converged:
        warnings.warn(f"linear fit stopped after {info.n_iter} iterations with a gradient of {info.grad_max:.2g} "
                      f"(> {CONVERGED_GRAD:g}); raise max_epochs or weight_decay", RuntimeWarning, stacklevel=3)
    record: dict[str, float] = {"epoch": 0.0, "train_loss": solution.data_loss, "n_iter": float(info.n_iter),
                                "n_eval": float(info.n_eval), "grad_max": info.grad_max,
                                "converged": float(info.converged)}
    if val_data is not None:
        record["val_loss"] = evaluate_loss(net, val_data, spec.ties) if val_data.n else math.nan
    return TrainResult(history=[record], best_epoch=0, n_epochs=1)


@dataclass
class _Solution:
    w: Tensor  # (q, n_outcomes) coefficients on the design columns
    offset: Tensor  # (n_outcomes,) Gompertz intercepts on the raw design (Cox: 0)
    names: list[str]
    raw_shape: Tensor  # per outcome (Gompertz only)
    data_loss: float
    info: LinearFitInfo


def _solve(net: nn.Module, design: Design, data: Tensors, spec: TrainSpec) -> _Solution:
    """Minimise the penalised loss on ``design`` by L-BFGS-B in whitened coordinates."""
    heads: Mapping[str, nn.Module] = net.heads  # type: ignore[assignment]
    ridge = float(spec.weight_decay)
    outcomes = [_Outcome(o, h, data, design.z, spec.ties, ridge) for o, h in heads.items()]
    device = design.z.device
    vs = [torch.zeros(o.k, dtype=torch.float64, device=device, requires_grad=True) for o in outcomes]
    intercept = torch.tensor([float(o.head.linear.bias.detach()) if o.gompertz else 0.0 for o in outcomes],
                             dtype=torch.float64, device=device, requires_grad=True)
    raw = torch.tensor([float(o.head.raw_shape.detach()) if o.gompertz else 0.0 for o in outcomes],
                       dtype=torch.float64, device=device, requires_grad=True)
    params = vs + ([intercept, raw] if any(o.gompertz for o in outcomes) else [])

    def objective() -> tuple[Tensor, Tensor]:
        data_loss = intercept.sum() * 0.0
        penalty = intercept.sum() * 0.0
        for j, (o, v) in enumerate(zip(outcomes, vs)):
            eta = o.zw @ v
            data_loss = data_loss + (o.loss(eta + intercept[j], raw[j]) if o.gompertz else o.loss(eta, None))
            if ridge > 0:
                penalty = penalty + 0.5 * ridge * (v @ (o.gram @ v))
        return data_loss + penalty, data_loss

    budget = ITERATIONS_PER_EPOCH * spec.max_epochs
    sizes = [p.numel() for p in params]
    n_eval = 0

    def value_and_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
        nonlocal n_eval
        n_eval += 1
        with torch.no_grad():
            for p, part in zip(params, torch.from_numpy(x).to(device).split(sizes)):
                p.copy_(part.reshape(p.shape))
        for p in params:
            p.grad = None
        total, _ = objective()
        total.backward()
        grad = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params])
        return float(total.detach()), grad.cpu().numpy()

    x0 = torch.cat([p.detach().reshape(-1) for p in params]).cpu().numpy()
    res = minimize(value_and_grad, x0, jac=True, method="L-BFGS-B",
                   options={"maxiter": budget, "maxfun": budget * 5 // 4, "gtol": TOLERANCE_GRAD,
                            "ftol": TOLERANCE_CHANGE, "maxcor": 20, "maxls": 50})
    total_f, grad = value_and_grad(np.asarray(res.x, dtype=np.float64))
    n_eval -= 1  # the evaluation at the solution is not the optimiser's
    if not math.isfinite(total_f):
        raise SurvageInputError("linear fit diverged (non-finite loss)", column="weight_decay",
                                expected="a positive weight_decay (ridge) for separable data")
    with torch.no_grad():
        _, data_loss = objective()
        w = torch.stack([o.p_map @ v for o, v in zip(outcomes, vs)], dim=1)
        # Gompertz: eta = (z - mu)' w + intercept = z' w + (intercept - mu' w)
        offset = torch.stack([intercept[j] - o.mu @ w[:, j] if o.gompertz else intercept[j] * 0.0
                              for j, o in enumerate(outcomes)])
    grad_max = float(np.abs(grad).max(initial=0.0))
    info = LinearFitInfo(n_iter=int(res.nit), n_eval=n_eval, grad_max=grad_max,
                         converged=grad_max <= CONVERGED_GRAD, rank=min((o.k for o in outcomes), default=0))
    return _Solution(w, offset, [o.name for o in outcomes], raw.detach(), float(data_loss), info)


@torch.no_grad()
def _write_back(net: nn.Module, design: Design, sol: _Solution) -> list[str]:
    """Put the coefficients into the heads and the absent-modality embeddings of ``net``.

    Returns the modalities whose fitted absent-modality effects one embedding cannot give
    (nothing is written for them).
    """
    n_feat = sum(design.widths)
    heads = net.heads  # type: ignore[union-attr]
    w = sol.w
    for j, name in enumerate(sol.names):
        head = heads[name]
        head.linear.weight.copy_(w[:n_feat, j].to(head.linear.weight.dtype).unsqueeze(0))
        if isinstance(head, GompertzHead):
            head.linear.bias.copy_(sol.offset[j].reshape(1).to(head.linear.bias.dtype))
            head.raw_shape.copy_(sol.raw_shape[j].to(head.raw_shape.dtype))
    starts = [sum(design.widths[:i]) for i in range(len(design.widths))]
    fusion: ConcatFusion = net.fusion  # type: ignore[assignment]
    bad = []
    for jm, m in enumerate(design.modalities):
        fusion.missing_embeddings[jm].zero_()
    for i, m in enumerate(design.absent_modalities):
        jm = design.modalities.index(m)
        block = w[starts[jm]:starts[jm] + design.widths[jm], :].T  # (n_outcomes, width): rows w_{o,m}
        offset = w[n_feat + i, :]  # wanted w_{o,m}' e_m, per outcome
        emb = torch.linalg.pinv(block) @ offset if block.numel() else block.new_zeros(design.widths[jm])
        if float((block @ emb - offset).abs().max()) > 1e-8 * (1.0 + float(offset.abs().max())):
            bad.append(m)
            continue
        fusion.missing_embeddings[jm].copy_(emb.to(fusion.missing_embeddings[jm].dtype))
    return bad
