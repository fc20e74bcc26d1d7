"""Saving and loading a fitted :class:`~survage.models.SurvivalModel` (safetensors + JSON).

``model.safetensors`` holds the network weights (the image branch's under
``branches.ct_image.``); ``model.json`` holds the configuration (image settings included, and
repeated under ``"image"`` for readers), preprocessing, Breslow baseline hazards, feature names,
training history, library versions and the SHA-256 of the weights file (and of its own content). Both are written atomically; loading
never executes code from the files.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

import survage
from survage.data.preprocessing import CohortPreprocessor
from survage.errors import SurvageInputError
from survage.models import checkpoint as ck

if TYPE_CHECKING:
    from survage.models.survival_model import SurvivalModel

FORMAT = "survage-survival-model-1"
WEIGHTS = "model.safetensors"
CONFIG = "model.json"


def save_model(model: "SurvivalModel", directory: Path) -> Path:
    """Write ``model`` into ``directory`` (weights first, then the JSON naming their hash)."""
    directory.mkdir(parents=True, exist_ok=True)
    sha = ck.write_tensors(directory / WEIGHTS, model.network_.state_dict())
    doc: dict[str, Any] = {
        "format": FORMAT,
        "config": model.get_params(),
        "modalities": list(model.modalities_),
        "in_features": dict(model.in_features_),
        "feature_names": {m: list(v) for m, v in model.feature_names_.items()},
        "preprocessing": model.preprocessor_.to_dict(),
        "baseline": {o: {"times": t.tolist(), "cumhaz": h.tolist()} for o, (t, h) in model.baseline_.items()},
        "fit": {"best_epoch": model.best_epoch_, "n_epochs": model.n_epochs_, "history": model.history_},
        "image": _image_section(model),
        "versions": {"survage": survage.__version__, "torch": torch.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
        "weights_file": WEIGHTS,
        "weights_sha256": sha,
    }
    ck.write_json(directory / CONFIG, doc)
    return directory


def _image_section(model: "SurvivalModel") -> dict[str, Any] | None:
    """The image settings of a model that reads CT images (also in ``config``), else ``None``."""
    if not model.uses_images_:
        return None
    st = model.image_settings
    return {"modality": "ct_image", "backbone": st.backbone, "size": list(st.size),
            "pixdim": None if st.pixdim is None else list(st.pixdim), "hu_window": list(st.hu_window),
            "augment": st.augment, "channels": 1, "spatial_dims": len(st.size),
            "weights_prefix": "branches.ct_image."}


def load_model(cls: "type[SurvivalModel]", directory: Path) -> "SurvivalModel":
    """Rebuild a model saved by :func:`save_model`."""
    path = directory / CONFIG
    doc = ck.read_json(path)
    if doc.get("format") != FORMAT:
        raise SurvageInputError(f"unknown checkpoint format {doc.get('format')!r}", column=str(path),
                                expected=FORMAT)
    try:
        config = dict(doc["config"])
        config["device"] = "cpu" if not torch.cuda.is_available() else config.get("device", "cpu")
        model = cls(**config)
        model.modalities_ = tuple(doc["modalities"])
        model.in_features_ = {m: int(k) for m, k in doc["in_features"].items()}
        model.feature_names_ = {m: list(v) for m, v in doc["feature_names"].items()}
        model.preprocessor_ = CohortPreprocessor.from_dict(doc["preprocessing"])
        model.baseline_ = {o: (np.asarray(v["times"], float), np.asarray(v["cumhaz"], float))
                           for o, v in doc["baseline"].items()}
        model.history_ = list(doc["fit"]["history"])
        model.best_epoch_ = int(doc["fit"]["best_epoch"])
        model.n_epochs_ = int(doc["fit"]["n_epochs"])
        weights_name = str(doc["weights_file"])
        sha = str(doc["weights_sha256"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SurvageInputError(f"checkpoint JSON is missing or has malformed fields: {exc}", column=str(path),
                                expected="a survage model checkpoint") from None
    if Path(weights_name).name != weights_name:
        raise SurvageInputError("weights file name must not contain a folder", column=str(path),
                                expected=WEIGHTS)
    tensors = ck.read_tensors(directory / weights_name, sha)
    net = model._build().to(dtype=model.dtype_)  # float64 weights of linear models stay float64
    try:
        net.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise SurvageInputError(f"weights do not fit the saved configuration: {exc}",
                                column=str(directory / weights_name), expected="matching weights") from None
    net = net.to(device=torch.device(model.device), dtype=model.dtype_)
    net.eval()
    model.network_ = net
    return model
