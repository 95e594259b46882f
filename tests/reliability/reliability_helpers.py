"""Shared by the reliability tests (pytest puts this folder on ``sys.path``)."""

from __future__ import annotations


def assert_checks(figures: dict) -> None:
    """Every "must be 0" / "must hold" of a probe passed (all figures in the message)."""
    failed = {k: v for k, v in figures["checks"].items() if not v["pass"]}
    assert not failed, f"failed checks {failed}; figures: {figures}"
