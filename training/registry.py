"""Model registry: ``models/<version>/`` bundles and the ``models/current`` pointer.

Standard library only (no torch, no onnx): the daemon may import this module to notice a
newly promoted bundle between games (``reload_needed``) without pulling in training.

- ``current`` is a relative symlink to the version folder, swapped atomically (a new
  symlink created beside it, then ``os.replace``). Where symlinks are unavailable it is a
  text file naming the version, also written via ``os.replace``. Both forms are what
  ``rugsd.strategy.bundle.resolve_current`` accepts.
- ``promotions.jsonl`` logs every promote/rollback; ``rollback`` pops the newest promotion
  and points ``current`` back at the one before it.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CURRENT = "current"
MANIFEST = "manifest.json"
LOG = "promotions.jsonl"


class RegistryError(Exception):
    """A registry operation cannot be done; the message is one line saying why."""


def version_name(now: datetime) -> str:
    """Version folder name for a bundle created at ``now`` (UTC, sortable)."""
    return "v" + now.astimezone(UTC).strftime("%Y%m%d-%H%M%S")


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The bundle's manifest as a dict, or None when absent/unreadable."""
    try:
        return json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def list_versions(models_dir: str | Path) -> list[dict[str, Any]]:
    """Every bundle folder (with a manifest), oldest first, with its headline figures."""
    root = Path(models_dir)
    if not root.is_dir():
        return []
    cur = current_version(root)
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
        man = read_manifest(folder)
        if man is None:
            continue
        metrics = man.get("metrics") or {}
        out.append({
            "version": folder.name,
            "created": man.get("created"),
            "current": folder.name == cur,
            "promoted": (man.get("promotion") or {}).get("promoted"),
            "sidebet_usable": man.get("sidebet_usable"),
            "pnl_per_game": (metrics.get("candidate") or {}).get("pnl_per_game"),
            "roi": (metrics.get("candidate") or {}).get("roi"),
        })
    return out


def current_version(models_dir: str | Path) -> str | None:
    """The promoted version's folder name (symlink target or text file), or None."""
    cur = Path(models_dir) / CURRENT
    try:
        if cur.is_symlink():
            target = Path(os.readlink(cur))
            name = target.name
        elif cur.is_file():
            name = cur.read_text().strip()
        elif cur.is_dir():
            return cur.resolve().name
        else:
            return None
    except OSError:
        return None
    return name if name and (Path(models_dir) / name).is_dir() else None


def reload_needed(models_dir: str | Path, loaded_version: str | None) -> bool:
    """True when ``current`` names a version other than the one the daemon runs.

    Call it between games (cheap: one readlink); load the new bundle with
    ``rugsd.strategy.bundle.load_bundle(resolve_current(models_dir))`` and keep the old one if
    that raises.
    """
    cur = current_version(models_dir)
    return cur is not None and cur != loaded_version


def _point(root: Path, version: str) -> None:
    """Atomically point ``current`` at ``version``."""
    cur = root / CURRENT
    if cur.is_dir() and not cur.is_symlink():
        raise RegistryError(f"{cur} is a real folder, not a pointer: move it away first")
    tmp = root / f".{CURRENT}.tmp-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    try:
        os.symlink(version, tmp, target_is_directory=True)
    except OSError:  # no symlinks here: a text file naming the version
        tmp.write_text(version + "\n")
    os.replace(tmp, cur)
    dir_fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _log(root: Path, entry: dict[str, Any]) -> None:
    with (root / LOG).open("a") as fh:
        fh.write(json.dumps(entry) + "\n")


def _stack(root: Path) -> list[str]:
    """Promotion stack replayed from the log (promote pushes, rollback pops)."""
    stack: list[str] = []
    try:
        lines = (root / LOG).read_text().splitlines()
    except OSError:
        return stack
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("action") == "promote":
            stack.append(entry.get("version", ""))
        elif entry.get("action") == "rollback" and stack:
            stack.pop()
    return stack


def promote(models_dir: str | Path, version: str, *, reason: str = "",
            now: datetime | None = None) -> str | None:
    """Make ``version`` current; returns the previously current version."""
    root = Path(models_dir)
    folder = root / version
    if not folder.is_dir() or read_manifest(folder) is None:
        raise RegistryError(f"no bundle {version!r} in {root}")
    previous = current_version(root)
    _point(root, version)
    _log(root, {"action": "promote", "version": version, "previous": previous,
                "reason": reason, "ts": (now or datetime.now(UTC)).isoformat()})
    return previous


def rollback(models_dir: str | Path, now: datetime | None = None) -> str:
    """Point ``current`` back at the bundle promoted before it; returns that version."""
    root = Path(models_dir)
    stack = _stack(root)
    cur = current_version(root)
    if cur is not None and stack and stack[-1] != cur:
        stack.append(cur)  # promoted outside the log: treat as the newest
    if len(stack) < 2:
        raise RegistryError("nothing to roll back to (fewer than two promotions recorded)")
    target = stack[-2]
    if not (root / target).is_dir():
        raise RegistryError(f"previous bundle {target!r} is gone from {root}")
    _point(root, target)
    _log(root, {"action": "rollback", "version": target, "previous": cur,
                "ts": (now or datetime.now(UTC)).isoformat()})
    return target
