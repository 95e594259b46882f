"""Registry: atomic current pointer, promote, rollback, reload detection (stdlib only)."""

from __future__ import annotations

import pytest
from kits.onnx_graphs import write_bundle

from rugsd.strategy.bundle import resolve_current
from rugsd.training import registry


@pytest.fixture
def models(tmp_path):
    for v in ("v1", "v2", "v3"):
        write_bundle(tmp_path / v, version=v)
    return tmp_path


def test_promote_swaps_the_pointer_that_strategy_resolves(models):
    assert registry.current_version(models) is None

    assert registry.promote(models, "v1") is None
    assert registry.promote(models, "v2") == "v1"

    assert resolve_current(models) == (models / "v2").resolve()
    assert (models / "current").is_symlink()
    assert not list(models.glob(".current.tmp*"))


def test_rollback_returns_to_the_previous_promotion(models):
    registry.promote(models, "v1")
    registry.promote(models, "v2")
    registry.promote(models, "v3")

    assert registry.rollback(models) == "v2"
    assert registry.rollback(models) == "v1"
    with pytest.raises(registry.RegistryError):
        registry.rollback(models)
    assert registry.current_version(models) == "v1"


def test_promote_refuses_an_unknown_version(models):
    with pytest.raises(registry.RegistryError):
        registry.promote(models, "v9")


def test_text_file_pointer_is_understood(models):
    (models / "current").write_text("v3\n")

    assert registry.current_version(models) == "v3"
    assert registry.reload_needed(models, "v1")
    assert not registry.reload_needed(models, "v3")


def test_list_marks_the_current_bundle(models):
    registry.promote(models, "v2")

    rows = registry.list_versions(models)

    assert [r["version"] for r in rows] == ["v1", "v2", "v3"]
    assert [r["current"] for r in rows] == [False, True, False]


def test_registry_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, rugsd.training.registry; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
