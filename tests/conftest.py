"""Shared fixtures: private XDG dirs per test, where the real captured data lives, free
loopback ports."""

from __future__ import annotations

import gzip
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# No per-example deadline: CI machines are shared and a slow example is not a bug; the
# properties themselves are what the tests check.
settings.register_profile(
    "rugsd", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
# CI: the same examples on every run (a red CI must be reproducible); locally hypothesis
# keeps exploring new examples and remembers failures in .hypothesis/
settings.register_profile("rugsd-ci", parent=settings.get_profile("rugsd"), derandomize=True)
settings.load_profile("rugsd-ci" if os.environ.get("CI") == "true" else "rugsd")

REPO_ROOT = Path(__file__).resolve().parents[1]
# the test kits (``tests/kits``: ONNX graphs, the scripted daemon) import as ``kits.…``;
# they live here, not in the package, so no runtime module can reach them
if str(REPO_ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "tests"))
# the in-repo sample of the real captures (gzip, built by scripts/make_test_sample.py)
SAMPLE_DIR = REPO_ROOT / "tests" / "data" / "real"
# the whole published set, present next to a checkout on the project's machines only
SHARED_REAL_DIR = REPO_ROOT.parent / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def real_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real captures the tests carry: ``tests/data/real`` decompressed, byte for byte,
    into a temp dir with the layout of ``../shared/data/real`` (raw samples, key samples,
    logged-in captures and 120 of the 639 recordings). Read only."""
    out = tmp_path_factory.mktemp("real")
    for src in SAMPLE_DIR.rglob("*.gz"):
        dst = out / src.relative_to(SAMPLE_DIR).with_suffix("")
        dst.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(src, "rb") as fin, dst.open("wb") as fout:
            shutil.copyfileobj(fin, fout)
    return out


@pytest.fixture(scope="session")
def full_real_data_dir() -> Path:
    """All 639 real recordings (``../shared/data/real``): only where the published set sits
    beside the checkout; the in-repo sample covers every other test."""
    if not (SHARED_REAL_DIR / "recordings").is_dir():
        pytest.skip(f"needs the full published data set at {SHARED_REAL_DIR} (not part of a "
                    "clone; tests/data/real holds the sample the rest of the suite uses)")
    return SHARED_REAL_DIR


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The project root."""
    return REPO_ROOT


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    return _free_port()


# --- isolation: no test sees the real home dirs, nor another test's daemons ----------------

XDG_VARS = ("XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR")
_SESSION_XDG: Path | None = None


def _point_xdg_at(root: Path, setenv) -> None:
    for name in XDG_VARS:
        folder = root / name.removeprefix("XDG_").lower()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        setenv(name, str(folder))


def pytest_configure(config: pytest.Config) -> None:
    """Before collection: the whole session (and what it spawns) uses a private XDG tree."""
    global _SESSION_XDG
    _SESSION_XDG = Path(tempfile.mkdtemp(prefix="rugsd-xdg-"))
    _point_xdg_at(_SESSION_XDG, os.environ.__setitem__)
    os.environ.pop("RUGSD_CONFIG", None)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _SESSION_XDG is not None:
        shutil.rmtree(_SESSION_XDG, ignore_errors=True)


@pytest.fixture(autouse=True)
def private_xdg_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Each test gets its own ``XDG_STATE_HOME``/``DATA``/``CONFIG``/``RUNTIME_DIR`` (and no
    ``RUGSD_CONFIG``): default data dirs, the daemon registry and the config lookup never
    touch the real home, and parallel tests never see each other's daemons. Subprocesses
    inherit ``os.environ``, so daemons started by a test register in the test's tree."""
    root = tmp_path_factory.mktemp("xdg")
    _point_xdg_at(root, monkeypatch.setenv)
    monkeypatch.delenv("RUGSD_CONFIG", raising=False)
    yield root
