"""The training loop: full-batch or mini-batch, early stopping on validation loss, resumable.

Mini-batches and the Cox loss: the partial likelihood of a mini-batch uses risk sets formed
*within the batch* (people of the batch still at risk), an unbiased-in-spirit but noisy and,
for small batches, degenerate approximation (a batch with one event carries almost no
information; Kvamme et al. 2019, JMLR 20(129), discuss this for case-control sampling).
Survage therefore trains full batch by default (``batch_size=None``), which is cheap on CPU for
tens of thousands of people; if batches are used they should hold hundreds of events.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, Union

import torch
from torch import Tensor, nn

from survage.errors import SurvageInputError
from survage.losses import cox_nll, gompertz_nll
from survage.models import checkpoint as ck
from survage.models.distributed import all_reduce_sum, gather, gather_with_grad, rank_and_world
from survage.nn.heads import GompertzHead

Callback = Callable[[int, Mapping[str, float]], None]


@dataclass
class Tensors:
    """Model inputs and per-outcome targets of a set of people, on one device."""

    inputs: dict[str, Tensor]
    mask: Tensor
    time: dict[str, Tensor] = field(default_factory=dict)
    event: dict[str, Tensor] = field(default_factory=dict)
    at_risk: dict[str, Tensor] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.mask.shape[0])

    def take(self, idx: Tensor) -> "Tensors":
        """The rows ``idx``."""
        return Tensors({m: x[idx] for m, x in self.inputs.items()}, self.mask[idx],
                       {o: t[idx] for o, t in self.time.items()}, {o: e[idx] for o, e in self.event.items()},
                       {o: a[idx] for o, a in self.at_risk.items()})


class StreamedData(Protocol):
    """A set of people whose inputs are partly read per mini-batch (e.g. images from disk).

    Implemented by :class:`survage.models.image_inputs.StreamedTensors`. ``mask``, ``time``,
    ``event`` and ``at_risk`` are held as tensors (as in :class:`Tensors`), the inputs are not.
    """

    @property
    def n(self) -> int: ...  # pragma: no cover - protocol

    @property
    def mask(self) -> Tensor: ...  # pragma: no cover - protocol

    @property
    def time(self) -> dict[str, Tensor]: ...  # pragma: no cover - protocol

    @property
    def event(self) -> dict[str, Tensor]: ...  # pragma: no cover - protocol

    @property
    def at_risk(self) -> dict[str, Tensor]: ...  # pragma: no cover - protocol

    def take(self, idx: Tensor) -> "StreamedData": ...  # pragma: no cover - protocol

    def batches(self, parts: Sequence[Tensor], *, train: bool,
                seed: int) -> Iterator[Tensors]: ...  # pragma: no cover - protocol

    def forward(self, net: nn.Module) -> dict[str, Tensor]: ...  # pragma: no cover - protocol


#: what the training loop accepts: tensors in memory, or a streamed set
TrainData = Union[Tensors, "StreamedData"]


def forward_all(net: nn.Module, data: TrainData) -> dict[str, Tensor]:
    """Outputs of ``net`` for every row of ``data`` (streamed sets: batch by batch, no gradient)."""
    if isinstance(data, Tensors):
        return net(data.inputs, data.mask)
    return data.forward(net)


@dataclass
class TrainSpec:
    """Optimisation settings."""

    lr: float = 1e-3
    weight_decay: float = 0.0
    max_epochs: int = 200
    batch_size: int | None = None
    patience: int = 20
    ties: Literal["efron", "breslow"] = "efron"


@dataclass
class TrainResult:
    """What the loop did."""

    history: list[dict[str, float]]
    best_epoch: int
    n_epochs: int


def _same(x: Tensor) -> Tensor:
    return x


def outcome_losses(net: nn.Module, out: Mapping[str, Tensor], data: TrainData, ties: str, world: int) -> Tensor:
    """Sum over outcomes of the (full-data, across ranks) mean loss, scaled by ``world``.

    Cox heads: mean negative partial log-likelihood per event over the at-risk rows, risk sets
    formed over all ranks (:func:`gather_with_grad`). Gompertz heads: mean negative
    log-likelihood per at-risk person. Multiplying by ``world`` undoes DDP's gradient averaging.
    With ``world == 1`` nothing is communicated (the rows of ``data`` are the whole set), also
    inside a process group (validation loss on data every rank holds).
    """
    gwg, gth, red = (_same, _same, _same) if world == 1 else (gather_with_grad, gather, all_reduce_sum)
    heads = net.heads  # type: ignore[attr-defined]
    total = sum(o.sum() * 0.0 for o in out.values())  # keeps every head in the graph (DDP)
    for name, score in out.items():
        ar = data.at_risk[name]
        s, t, e = score[ar], data.time[name][ar], data.event[name][ar]
        head = heads[name]
        if isinstance(head, GompertzHead):
            n_all = red(torch.tensor(float(s.shape[0]), dtype=s.dtype, device=s.device))
            if float(n_all) == 0:
                continue
            part = gompertz_nll(s, head.shape_b, t, e, reduction="sum") if s.numel() else s.sum()
            total = total + part / n_all * world
        else:
            s_all, t_all, e_all = gwg(s), gth(t), gth(e)
            if s_all.numel() == 0 or float(e_all.sum()) == 0:
                continue
            total = total + cox_nll(s_all, t_all, e_all, ties=ties, reduction="mean") * world  # type: ignore[arg-type]
    return total  # type: ignore[return-value]


@torch.no_grad()
def evaluate_loss(net: nn.Module, data: TrainData, ties: str) -> float:
    """Validation loss (eval mode, no gradient; the same on every rank).

    Streamed sets are scored batch by batch and the loss is taken over all their rows at once
    (full risk sets), as for sets held in memory.
    """
    was = net.training
    net.eval()
    out = forward_all(net, data)
    loss = float(outcome_losses(net, out, data, ties, world=1)) if data.n else math.nan
    net.train(was)
    return loss


def _rng_tensors(device: torch.device) -> dict[str, Tensor]:
    rng = {"rng.cpu": torch.get_rng_state()}
    if device.type == "cuda":
        rng["rng.cuda"] = torch.cuda.get_rng_state(device)
    return rng


def _set_rng(tensors: Mapping[str, Tensor], device: torch.device) -> None:
    torch.set_rng_state(tensors["rng.cpu"])
    if device.type == "cuda" and "rng.cuda" in tensors:
        torch.cuda.set_rng_state(tensors["rng.cuda"], device)


def _state_names(directory: Path, rank: int, world: int) -> tuple[Path, str]:
    stem = "train_state" if world == 1 else f"train_state.rank{rank}"
    return directory / f"{stem}.json", stem


def save_train_state(directory: Path, *, epoch: int, net: nn.Module, opt: torch.optim.Optimizer,
                     best_state: Mapping[str, Tensor], loop: dict[str, Any], fingerprint: Mapping[str, Any],
                     device: torch.device) -> None:
    """Write the resumable state after ``epoch`` (tensor file first, then the JSON that names it)."""
    rank, world = rank_and_world()
    json_path, stem = _state_names(directory, rank, world)
    tensors: dict[str, Tensor] = {f"model.{k}": v for k, v in net.state_dict().items()}
    tensors.update({f"best.{k}": v for k, v in best_state.items()})
    tensors.update(_rng_tensors(device))
    opt_doc = ck.flatten_state(opt.state_dict(), tensors, "opt")
    weights = directory / f"{stem}.{epoch}.safetensors"
    sha = ck.write_tensors(weights, tensors)
    old = None
    if json_path.is_file():
        try:
            old = ck.read_json(json_path).get("weights_file")
        except SurvageInputError:
            old = None
    ck.write_json(json_path, {"format": "survage-train-state-1", "epoch": epoch, "weights_file": weights.name,
                              "weights_sha256": sha, "optimizer": opt_doc, "loop": loop,
                              "fingerprint": dict(fingerprint)})
    if old and old != weights.name and (directory / old).is_file():
        (directory / old).unlink()


def load_train_state(directory: Path, fingerprint: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Tensor]] | None:
    """The saved state (JSON document, tensors) or ``None`` when there is none."""
    rank, world = rank_and_world()
    json_path, _ = _state_names(directory, rank, world)
    if not json_path.is_file():
        return None
    doc = ck.read_json(json_path)
    if doc.get("fingerprint") != dict(fingerprint):
        raise SurvageInputError("the training state in the checkpoint folder was written by another "
                                "configuration or other data; use a fresh folder or resume=False",
                                column=str(json_path), expected="the same settings and cohort")
    tensors = ck.read_tensors(directory / doc["weights_file"], doc["weights_sha256"])
    return doc, tensors


def train(net: nn.Module, train_data: TrainData, val_data: TrainData | None, spec: TrainSpec, *,
          device: torch.device, checkpoint_dir: Path | None = None, resume: bool = False,
          fingerprint: Mapping[str, Any] | None = None, callback: Callback | None = None) -> TrainResult:
    """Fit ``net`` in place; returns the history. The caller seeds the global torch RNG.

    With ``val_data`` the parameters of the epoch with the lowest validation loss are kept
    (early stopping after ``patience`` epochs without improvement); without it the last epoch's.
    Optimiser: AdamW (linear models are fitted by :func:`survage.models.linear_fit.fit_linear`).
    In a process group the model is wrapped in ``DistributedDataParallel`` and ``train_data``
    is this rank's shard.

    A streamed ``train_data`` (:class:`StreamedData`, e.g. images read from disk) is always
    trained in mini-batches of ``spec.batch_size`` (required): each epoch draws the batch order
    and an augmentation seed from the global torch RNG (so a resumed run repeats them).
    """
    rank, world = rank_and_world()
    model: nn.Module = net
    if world > 1:
        model = nn.parallel.DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None)
    opt: torch.optim.Optimizer = torch.optim.AdamW(net.parameters(), lr=spec.lr, weight_decay=spec.weight_decay)
    fingerprint = dict(fingerprint or {})
    best_state = copy.deepcopy(net.state_dict())
    loop: dict[str, Any] = {"best": math.inf, "best_epoch": -1, "bad": 0, "stopped": False, "history": [],
                            "prev_train": math.inf}
    start = 0
    if checkpoint_dir is not None and resume:
        saved = load_train_state(checkpoint_dir, fingerprint)
        if saved is not None:
            doc, tensors = saved
            net.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
            best_state = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
            opt.load_state_dict(ck.unflatten_state(doc["optimizer"], tensors))
            _set_rng(tensors, device)
            loop = doc["loop"]
            start = int(doc["epoch"]) + 1
    n_local = train_data.n
    n_total = int(all_reduce_sum(torch.tensor(n_local, device=device)))
    streamed = not isinstance(train_data, Tensors)
    if streamed and spec.batch_size is None:
        raise SurvageInputError("streamed inputs (images) are trained by Adam in mini-batches",
                                column="batch_size", expected="an integer batch size and a non-linear model")
    full = not streamed and (spec.batch_size is None or spec.batch_size >= n_total)
    n_batches = 1 if full else math.ceil(n_total / int(spec.batch_size))  # type: ignore[arg-type]

    def step_loss(data: TrainData) -> Tensor:
        return outcome_losses(net, model(data.inputs, data.mask), data, spec.ties, world)  # type: ignore[union-attr]

    epoch = start - 1
    for epoch in range(start, spec.max_epochs):
        if loop["stopped"]:
            break
        net.train()
        batches: Iterator[TrainData]
        if full:
            batches = iter([train_data])
        elif streamed:
            parts = list(torch.tensor_split(torch.randperm(n_local), n_batches))
            seed = int(torch.randint(0, 2 ** 31 - 1, (1,)))
            batches = train_data.batches(parts, train=True, seed=seed)  # type: ignore[union-attr]
        else:
            parts = list(torch.tensor_split(torch.randperm(n_local).to(device), n_batches))
            batches = (train_data.take(idx) for idx in parts)
        losses = []
        for batch in batches:
            opt.zero_grad()
            loss = step_loss(batch)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()) / world)
        train_loss = float(sum(losses) / len(losses))
        record = {"epoch": float(epoch), "train_loss": train_loss}
        if val_data is not None:
            val_loss = evaluate_loss(net, val_data, spec.ties)
            record["val_loss"] = val_loss
            if val_loss < loop["best"]:
                loop.update(best=val_loss, best_epoch=epoch, bad=0)
                best_state = copy.deepcopy(net.state_dict())
            else:
                loop["bad"] += 1
            loop["stopped"] = loop["bad"] >= spec.patience or not math.isfinite(val_loss)
        else:
            loop["best_epoch"] = epoch
            loop["prev_train"] = train_loss
        if not math.isfinite(train_loss):
            raise SurvageInputError(f"training diverged at epoch {epoch} (loss {train_loss})",
                                    column="lr", expected="a smaller learning rate")
        loop["history"].append(record)
        if checkpoint_dir is not None:
            save_train_state(checkpoint_dir, epoch=epoch, net=net, opt=opt, best_state=best_state, loop=loop,
                             fingerprint=fingerprint, device=device)
        if callback is not None:
            callback(epoch, record)
    if val_data is not None:
        net.load_state_dict(best_state)
    return TrainResult(history=list(loop["history"]), best_epoch=int(loop["best_epoch"]),
                       n_epochs=len(loop["history"]))
