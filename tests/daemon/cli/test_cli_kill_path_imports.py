"""``rugsd kill`` and ``rugsd arm`` stay inside the kill switch's one-tick budget: their
path imports neither pydantic nor structlog nor anything numeric (each is a tenth of a
second or more of a cold start). The figure itself is measured in
``bench/results/reliability.json`` (``control_flood``, trigger ``cli``)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pydantic", "pydantic_settings", "structlog", "rich", "numpy", "onnxruntime",
         "duckdb", "playwright", "textual")


def modules_after(argv: list[str]) -> set[str]:
    code = (
        "import json, sys\n"
        "from rugsd.daemon.cli import build_parser\n"
        f"args = build_parser({argv!r}).parse_args({argv!r})\n"
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    return set(json.loads(out.stdout))


def test_the_kill_and_arm_commands_import_nothing_heavy():
    for argv in (["kill", "--reason", "x"], ["arm", "--yes"]):
        loaded = modules_after(argv)
        assert "rugsd" in loaded
        assert not loaded & set(HEAVY), (argv, sorted(loaded & set(HEAVY)))


def test_another_command_does_load_them():
    # the check above can fail: the same probe sees pydantic on a command that needs it
    assert "pydantic" in modules_after(["config", "show"])
