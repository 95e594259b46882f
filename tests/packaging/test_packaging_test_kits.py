"""Test kits stay out of the package: no runtime module imports ``tests/kits`` or the
``onnx`` package (a dev/train extra; the daemon needs only onnxruntime). ``training/``
exports ONNX and runs only with the ``train`` extra installed."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ("daemon", "strategy", "risk", "tui")
ALLOWED_ONNX = ("training",)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
    return out


def _top(name: str) -> str:
    return name.split(".")[0]


def test_no_package_module_imports_a_test_kit_or_onnx() -> None:
    found = []
    for folder in (*RUNTIME, *ALLOWED_ONNX):
        for path in (ROOT / folder).rglob("*.py"):
            for line, name in _imports(path):
                bad = _top(name) in ("kits", "tests") or name.startswith("rugsd.tests")
                bad |= _top(name) == "onnx" and folder not in ALLOWED_ONNX
                if bad:
                    found.append(f"{path.relative_to(ROOT)}:{line}: {name}")
    assert found == []


def test_the_kits_live_under_tests_and_not_in_the_package() -> None:
    assert (ROOT / "tests" / "kits" / "onnx_graphs.py").is_file()
    assert (ROOT / "tests" / "kits" / "scripted_daemon.py").is_file()
    assert not (ROOT / "strategy" / "testing.py").exists()
    assert not (ROOT / "daemon" / "control" / "testing.py").exists()
