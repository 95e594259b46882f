"""Every reason code an operator can meet is explained in the README's reason table."""

from __future__ import annotations

import re
from pathlib import Path

from rugsd.risk.reasons import ReasonCode

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_explains_every_reason_code() -> None:
    text = README.read_text()
    table = text.split("### Refusal and state-change reasons", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| (.+) \|$", table, flags=re.MULTILINE))
    missing = [r.value for r in ReasonCode if r.value not in rows]
    assert not missing, f"README names no meaning for: {', '.join(missing)}"
    assert all(len(meaning.strip()) > 10 for meaning in rows.values())
    stale = sorted(set(rows) - {r.value for r in ReasonCode})
    assert not stale, f"README explains reasons the code does not have: {stale}"
