#!/usr/bin/env bash
# Install everything rugsd needs on a fresh Debian machine, into ./.venv.
#   bash scripts/install.sh           # reuse .venv if present
#   bash scripts/install.sh --fresh   # rebuild .venv from scratch (CI does this)
# Chromium comes from Debian (Playwright's own browser download cannot work offline);
# torch 2.13.0 (CPU) comes from the machine's local wheel via pip.
set -euo pipefail
cd "$(dirname "$0")/.."

fresh=0
[[ "${1:-}" == "--fresh" ]] && fresh=1

if [[ ! -x /usr/bin/chromium ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    echo "== installing Debian chromium"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
  else
    echo "== /usr/bin/chromium missing: run 'sudo apt-get install -y chromium' (browser features need it)"
  fi
fi

if [[ $fresh -eq 1 ]]; then rm -rf .venv; fi
if [[ ! -x .venv/bin/python ]]; then
  echo "== creating .venv"
  python3 -m venv .venv
fi
echo "== installing python packages (runtime + train + sweep + dev extras)"
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[train,sweep,dev]'

if [[ -f tests/interop/package.json ]] && command -v npm >/dev/null; then
  echo "== installing npm packages for the interop tests"
  (cd tests/interop && npm ci --no-audit --no-fund --silent)
fi
echo "== done: .venv/bin/rugsd is ready"
