#!/usr/bin/env bash
# The wheel runs anywhere: build it, install it with its runtime dependencies only into a
# fresh venv, and from an empty directory with private XDG dirs (no config file, no
# clone around) run `rugsd run --paper` on the embedded simulator for a few games with
# the packaged default bundle. Then `rugsd status` / `rugsd kill` from yet another
# directory must find that daemon, and `rugsd report` must show the games it traded.
#
#   bash scripts/wheel_smoke.sh          # needs ./.venv (for building) and python3
#
# Fast on a second run: pip's cache (~/.cache/pip) keeps the dependency wheels. Every
# wait is bounded; the daemon is always stopped; the temp dir is removed on success.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
python=${PYTHON:-python3}
games=${SMOKE_GAMES:-3}
work=$(mktemp -d /tmp/rugsd-wheel-XXXXXX)
daemon_pid=""

cleanup() {
  local rc=$?
  if [[ -n "$daemon_pid" ]] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    sleep 2
    kill -KILL "$daemon_pid" 2>/dev/null || true
  fi
  if [[ $rc -ne 0 ]]; then
    echo "== wheel smoke FAILED (rc=$rc); daemon log tail:" >&2
    tail -n 30 "$work/daemon.log" >&2 2>/dev/null || true
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT

t0=$(date +%s)
echo "== building the wheel (from a copy of the tree: nothing left in the checkout)"
mkdir -p "$work/src" "$work/dist"
tar -C "$repo" --exclude=./.venv --exclude=./.git --exclude=./build --exclude='*.egg-info' \
    --exclude=node_modules --exclude=__pycache__ --exclude=./.hypothesis -cf - . \
  | tar -C "$work/src" -xf -
"$repo/.venv/bin/pip" wheel -q --no-deps --no-build-isolation "$work/src" -w "$work/dist" 2>/dev/null
wheel=$(ls "$work"/dist/rugsd-*.whl)
echo "   $(basename "$wheel") ($(( $(stat -c %s "$wheel") / 1024 )) KiB)"

echo "== fresh venv with the runtime dependencies only"
"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check "$wheel" >"$work/pip.log" 2>&1 \
  || { cat "$work/pip.log" >&2; exit 1; }
rugsd="$work/venv/bin/rugsd"
py="$work/venv/bin/python"
if "$py" -c "import torch" 2>/dev/null; then echo "torch must not be a runtime dependency" >&2; exit 1; fi
echo "   installed in $(( $(date +%s) - t0 ))s"

# a user's machine: an empty working dir, private XDG dirs, nothing from the clone
mkdir -p "$work/empty" "$work/elsewhere" "$work/xdg"/{state,data,config,runtime}
port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
run_env=(env -u RUGSD_CONFIG HOME="$work/home"
  XDG_STATE_HOME="$work/xdg/state" XDG_DATA_HOME="$work/xdg/data"
  XDG_CONFIG_HOME="$work/xdg/config" XDG_RUNTIME_DIR="$work/xdg/runtime"
  RUGSD_SIM__PORT="$port" RUGSD_FEED__URL="http://127.0.0.1:$port" RUGSD_SIM__SPEED=20
  RUGSD_LOGGING__FORMAT=json
  # loss limits out of the way: the kill below must be what stops it
  RUGSD_RISK__MAX_DRAWDOWN_SOL=1000 RUGSD_RISK__MAX_DAILY_LOSS_SOL=1000)

echo "== rugsd config show (from the empty dir)"
(cd "$work/empty" && "${run_env[@]}" "$rugsd" config show | sed -n 1p)

echo "== rugsd run --paper for $games games, from the empty dir"
(cd "$work/empty" && exec "${run_env[@]}" timeout 300 "$rugsd" run --paper) \
  >"$work/daemon.log" 2>&1 &
daemon_pid=$!

status_json() { (cd "$work/elsewhere" && "${run_env[@]}" "$rugsd" status --json 2>/dev/null) || true; }
seen=""
deadline=$(( $(date +%s) + 180 ))
while :; do
  kill -0 "$daemon_pid" 2>/dev/null || { echo "the daemon exited" >&2; exit 1; }
  game=$(status_json | "$py" -c 'import json,sys
try: print(json.load(sys.stdin)["snapshot"]["game"]["game_id"] or "")
except Exception: print("")')
  if [[ -n "$game" && " $seen " != *" $game "* ]]; then seen="$seen $game"; fi
  (( $(wc -w <<<"$seen") > games )) && break
  (( $(date +%s) < deadline )) || { echo "fewer than $games games in 180 s" >&2; exit 1; }
  sleep 0.5
done
echo "   games seen:$seen"

echo "== rugsd status / kill from another directory"
status_json | "$py" -c 'import json,sys
r = json.load(sys.stdin); d = r["snapshot"]["daemon"]
assert r["daemon_running"] and d["strategy"] == "onnx" and d["bundle_version"], r
assert r["trading_state"] != "KILLED", r["trading_state"]
print("   status: running, strategy", d["strategy"], "bundle", d["bundle_version"], "state", r["trading_state"])'
(cd "$work/elsewhere" && "${run_env[@]}" "$rugsd" kill --reason "wheel smoke") | sed 's/^/   /'
state=$(status_json | "$py" -c 'import json,sys; print(json.load(sys.stdin)["trading_state"])')
[[ "$state" == "KILLED" ]] || { echo "state after kill: $state" >&2; exit 1; }
echo "   state after kill: $state"

kill -INT "$daemon_pid"
for _ in $(seq 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
wait "$daemon_pid" || { echo "the daemon did not stop cleanly" >&2; exit 1; }
daemon_pid=""
[[ -z "$(ls -A "$work/xdg/state/rugsd/daemons")" ]] || { echo "registry entry left" >&2; exit 1; }

echo "== rugsd report (default data dir)"
(cd "$work/empty" && "${run_env[@]}" "$rugsd" report --json) | "$py" -c 'import json,sys
r = json.load(sys.stdin)
assert r["games"]["seen"] >= 2 and sum(r["action_distribution"].values()) > 0, r["games"]
print("   games seen", r["games"]["seen"], "traded", r["games"]["traded"],
      "decisions", sum(r["action_distribution"].values()), "P&L", r["pnl_sol"], "SOL")'
[[ -z "$(ls -A "$work/empty")" ]] || { echo "files written to the working dir:" >&2; ls -A "$work/empty" >&2; exit 1; }
echo "== wheel smoke OK in $(( $(date +%s) - t0 ))s (nothing written to the working dir)"
