"""One import name: every module imports the project as ``rugsd.…``.

The top-level folders (``daemon/``, ``risk/``, …) are mapped under ``rugsd`` by
``pyproject.toml``. A bare ``import daemon`` would still work from the project root (the
folder is on ``sys.path``) but would load a second copy of the module — two ``KillSwitch``
classes, two registries — and would break in an installed wheel, where only ``rugsd``
exists. So it must never appear.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP_LEVEL = ("daemon", "strategy", "risk", "training", "tui")
SCANNED = (*TOP_LEVEL, "tests", "bench", "scripts")


def _python_files() -> list[Path]:
    files = [ROOT / "__init__.py", ROOT / "__main__.py"]
    for folder in SCANNED:
        files += [p for p in (ROOT / folder).rglob("*.py") if "node_modules" not in p.parts]
    return files


def _bare_imports(path: Path, base: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [f"{path.relative_to(base)}:{node.lineno}: {n}" for n in names
                  if n.split(".")[0] in TOP_LEVEL]
    return found


def test_no_module_imports_a_bare_top_level_package_name() -> None:
    offenders = [hit for path in _python_files() for hit in _bare_imports(path)]
    assert offenders == []


def test_the_scan_finds_a_bare_import(tmp_path: Path) -> None:
    # the detector itself can fail: a planted bare import is reported
    planted = tmp_path / "planted.py"
    planted.write_text("from risk.gate import check\nimport tui.app\nfrom rugsd.risk import gate\n")
    assert len(_bare_imports(planted, tmp_path)) == 2


def test_package_list_matches_the_folders_on_disk() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == {"rugsd": "."}
    listed = set(config["packages"])
    on_disk = {"rugsd"}
    for folder in TOP_LEVEL:
        for init in (ROOT / folder).rglob("__init__.py"):
            on_disk.add("rugsd." + ".".join(init.parent.relative_to(ROOT).parts))
    data_dirs = {"rugsd.daemon.sim.static", "rugsd.daemon.execution.js"}
    assert listed == on_disk | data_dirs


def test_python_dash_m_rugsd_runs_the_cli(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "rugsd", "--help"], check=False,
                          cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "usage: rugsd" in done.stdout
