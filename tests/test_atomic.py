"""Atomic writes: a failed write leaves the old file and no temporary file behind."""

from pathlib import Path

import pytest

from survage.atomic import atomic_target, atomic_write_json, atomic_write_text


def test_failed_write_keeps_old_content_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_target(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_json_refuses_nan(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        atomic_write_json(tmp_path / "m.json", {"x": float("nan")})
    assert not list(tmp_path.iterdir())
