"""``rugsd config show``: print the effective configuration, secrets masked, and say which
config file it came from (``--config``, ``RUGSD_CONFIG``, ``./config.toml``, the XDG
config dir, or the built-in defaults)."""

from __future__ import annotations

import argparse
import json

from rugsd.daemon.config import config_source, load_settings, masked_dump


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``config show``."""
    parser = sub.add_parser("config", help="show the effective configuration")
    inner = parser.add_subparsers(dest="config_command", metavar="ACTION")
    show = inner.add_parser("show", help="print the effective config (secrets masked)")
    show.add_argument("--json", action="store_true", help="one JSON object")
    show.set_defaults(func=run_show)
    parser.set_defaults(func=lambda _args: parser.print_help() or 2)


def _toml_value(value: object) -> str:
    if value is None:
        return '""  # unset'
    return json.dumps(value)


def run_show(args: argparse.Namespace) -> int:
    """Print the config as TOML-like sections (or JSON) with its source file."""
    settings = load_settings()
    data = masked_dump(settings)
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True))
        return 0
    print(f"# source: {config_source().describe()} + RUGSD_* environment")
    for section, values in data.items():
        print(f"\n[{section}]")
        for key, value in values.items():
            print(f"{key} = {_toml_value(value)}")
    return 0
