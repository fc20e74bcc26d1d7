"""Checkpoint files: safetensors (tensors) + JSON (everything else), atomic and hash-checked.

Nothing here executes code from a file: tensors are read with ``safetensors`` (never
``torch.load`` or pickle) and everything else is plain JSON. Each JSON document records the
SHA-256 of its tensor file and of its own canonical content, so a tampered or truncated file is
detected and reported as :class:`~survage.errors.SurvageInputError` naming the file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from survage.atomic import atomic_write_bytes
from survage.errors import SurvageInputError

_HASH_KEY = "content_sha256"


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _canonical(doc: Mapping[str, Any]) -> bytes:
    return json.dumps({k: v for k, v in doc.items() if k != _HASH_KEY}, sort_keys=True,
                      separators=(",", ":")).encode()


def write_json(path: Path, doc: Mapping[str, Any]) -> None:
    """Write ``doc`` as JSON atomically, adding the SHA-256 of its canonical content."""
    body = dict(doc)
    body[_HASH_KEY] = sha256_bytes(_canonical(body))
    atomic_write_bytes(Path(path), json.dumps(body, indent=1, sort_keys=True).encode())


def read_json(path: Path) -> dict[str, Any]:
    """Read a JSON document written by :func:`write_json`, checking its content hash."""
    path = Path(path)
    if not path.is_file():
        raise SurvageInputError("checkpoint file not found", column=str(path), expected="an existing file")
    try:
        doc = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SurvageInputError(f"checkpoint file is not valid JSON (truncated or corrupted): {exc}",
                                column=str(path), expected="a complete survage checkpoint") from None
    if not isinstance(doc, dict) or _HASH_KEY not in doc:
        raise SurvageInputError("checkpoint JSON lacks its content hash", column=str(path),
                                expected=f"a survage checkpoint with {_HASH_KEY!r}")
    if sha256_bytes(_canonical(doc)) != doc[_HASH_KEY]:
        raise SurvageInputError("checkpoint JSON does not match its recorded SHA-256 (edited or corrupted)",
                                column=str(path), expected="an unmodified survage checkpoint")
    return doc


def write_tensors(path: Path, tensors: Mapping[str, torch.Tensor]) -> str:
    """Write tensors as safetensors atomically; return the file's SHA-256."""
    data = st_save({k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()})
    atomic_write_bytes(Path(path), data)
    return sha256_bytes(data)


def read_tensors(path: Path, sha256: str) -> dict[str, torch.Tensor]:
    """Read a safetensors file after checking its SHA-256 against ``sha256``."""
    path = Path(path)
    if not path.is_file():
        raise SurvageInputError("checkpoint weights file not found", column=str(path), expected="an existing file")
    data = path.read_bytes()
    if sha256_bytes(data) != sha256:
        raise SurvageInputError("weights file does not match the SHA-256 recorded in the checkpoint "
                                "(tampered or truncated)", column=str(path), expected=f"sha256 {sha256}")
    try:
        return st_load(data)
    except Exception as exc:  # safetensors raises its own error types
        raise SurvageInputError(f"weights file cannot be read as safetensors: {exc}", column=str(path),
                                expected="a safetensors file") from None


def flatten_state(obj: Any, tensors: dict[str, torch.Tensor], prefix: str) -> Any:
    """JSON-ready copy of a nested state (dicts, lists, tuples, numbers), tensors moved to ``tensors``.

    Used for optimizer state dicts (``torch.optim`` ``state_dict()``), whose dicts have int keys.
    """
    if isinstance(obj, torch.Tensor):
        key = f"{prefix}"
        tensors[key] = obj
        return {"__tensor__": key}
    if isinstance(obj, Mapping):
        return {"__dict__": [[k, flatten_state(v, tensors, f"{prefix}.{k}")] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [flatten_state(v, tensors, f"{prefix}.{i}") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [flatten_state(v, tensors, f"{prefix}.{i}") for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store {type(obj).__name__} at {prefix}")


def unflatten_state(obj: Any, tensors: Mapping[str, torch.Tensor]) -> Any:
    """Inverse of :func:`flatten_state`."""
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return tensors[obj["__tensor__"]]
        if "__dict__" in obj:
            return {k: unflatten_state(v, tensors) for k, v in obj["__dict__"]}
        if "__tuple__" in obj:
            return tuple(unflatten_state(v, tensors) for v in obj["__tuple__"])
        raise ValueError("unknown tagged object in checkpoint state")
    if isinstance(obj, list):
        return [unflatten_state(v, tensors) for v in obj]
    return obj
