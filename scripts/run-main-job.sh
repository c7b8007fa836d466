#!/usr/bin/env bash
# The main job: a Scale Out master and two workers on this machine (loopback),
# running the sample project. Everything it starts is stopped at the end.
#
#   scripts/run-main-job.sh [BUILD_DIR]     (default: build/default)
#
# Steps, as an operator would do them (see docs/operations.md):
#   certificates -> master init + start -> trust and enable two workers ->
#   deploy examples/sample-project -> run its packages (one with a retry, one
#   with a parameter bound to an environment variable) -> wait -> print the
#   executions with their status and worker.
#
# SCALEOUT_MAIN_JOB_HOLD=1 keeps the cluster running at the end (until Ctrl-C)
# and prints how to open the web dashboard and use `scaleout manage` on it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${1:-build/default}
bin="$root/$build/bin/scaleout"
plugins="$root/$build/lib/scaleout/plugins"
[ -x "$bin" ] || { echo "run-main-job: $bin is missing; build first (scripts/build.sh)" >&2; exit 1; }

work=$(mktemp -d -t scaleout-main-job.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${SCALEOUT_KEEP_MAIN_JOB:-0}" = "1" ]; then
    echo "== kept $work (logs, catalog, settings)"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
say() { printf '== %s\n' "$*"; }

say "working folder $work"
mkdir -p "$work/master" "$work/w1" "$work/w2"

say "certificates (scaleout cert create)"
"$bin" cert create --cn localhost --dns localhost --ip 127.0.0.1 \
  --out-cert "$work/master/master.crt" --out-key "$work/master/master.key" >/dev/null
for w in w1 w2; do
  "$bin" cert create --cn "$w" --out-cert "$work/$w/worker.crt" --out-key "$work/$w/worker.key" >/dev/null
done
master_pin=$("$bin" cert thumbprint "$work/master/master.crt" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sha256"])')

cat > "$work/master/master.json" <<JSON
{
  "PortNumber": 0,
  "BindAddress": "127.0.0.1",
  "SSLCertFile": "master.crt",
  "SSLKeyFile": "master.key",
  "DealWithExpiredTasksIntervalInMs": 2000,
  "LeaseIntervalInMs": 10000,
  "Plugins": {"Directory": "$plugins", "Transport": "https", "Storage": "sqlite"},
  "PluginSettings": {"storage.sqlite": {"path": "catalog.db", "synchronous": "FULL"}}
}
JSON

say "master init (catalog and first admin)"
init_out=$("$bin" master init --config "$work/master/master.json")
token=$(printf '%s\n' "$init_out" | sed -n 's/.*SCALEOUT_TOKEN=//p' | head -n 1)
[ -n "$token" ] || { echo "$init_out" >&2; echo "run-main-job: master init printed no token" >&2; exit 1; }

say "starting the master"
"$bin" master --config "$work/master/master.json" --port-file "$work/master/port" \
  >"$work/master/master.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do [ -s "$work/master/port" ] && break; sleep 0.1; done
[ -s "$work/master/port" ] || { cat "$work/master/master.out" >&2; exit 1; }
port=$(cat "$work/master/port")
export SCALEOUT_MASTER="https://127.0.0.1:$port" SCALEOUT_MASTER_THUMBPRINT="$master_pin" \
       SCALEOUT_TOKEN="$token" SCALEOUT_PLUGIN_DIR="$plugins"
manage() { "$bin" manage "$@"; }
say "master listening at $SCALEOUT_MASTER"
say "enable Scale Out and make it the default execution mode (catalog.enable_scaleout, configure_catalog)"
manage enable-scaleout >/dev/null
manage catalog set DEFAULT_EXECUTION_MODE ScaleOut >/dev/null

# TaskRequestMaxCPU is raised to 100 % because this job often runs right
# after a build on the same machine; a real worker keeps the SSIS 70 %.
for w in w1 w2; do
  agent=$(cat /proc/sys/kernel/random/uuid | tr 'a-f' 'A-F')
  cat > "$work/$w/worker.json" <<JSON
{
  "MasterEndpoint": "$SCALEOUT_MASTER",
  "MasterHttpsCertThumbprint": "$master_pin",
  "WorkerCertFile": "worker.crt",
  "WorkerKeyFile": "worker.key",
  "AgentId": "$agent",
  "MaxTaskCount": 4,
  "TaskRequestMaxCPU": 100.0,
  "AgentHeartbeatInterval": "00:00:05",
  "TaskHeartbeatInterval": "00:00:02",
  "Plugins": {"Directory": "$plugins", "Transport": "https", "Executor": "process"}
}
JSON
  say "worker $w: trust its certificate (manage worker add) and start it"
  manage worker add --cert "$work/$w/worker.crt" --agent-id "$agent" --display-name "$w" --yes >/dev/null
  "$bin" worker --config "$work/$w/worker.json" >"$work/$w/worker.out" 2>&1 &
  pids+=($!)
  echo "$agent" > "$work/$w/agent"
done
for w in w1 w2; do
  agent=$(cat "$work/$w/agent")
  for _ in $(seq 1 300); do
    manage worker show "$agent" --json 2>/dev/null | grep -q '"machine_name": "[^"]' && break
    sleep 0.1
  done
  say "worker $w registered; enabling it"
  manage worker enable "$agent" >/dev/null
done

say "deploy examples/sample-project"
manage deploy --folder demo --project sample "$root/examples/sample-project"

say "run the packages"
ids=()
for name in Ada Grace Linus Barbara; do
  ids+=("$(manage exec run --folder demo --project sample --package hello.sh --param "Name=$name" --json \
           | python3 -c 'import json,sys; print(json.load(sys.stdin)["execution_id"])')")
done
ids+=("$(manage exec run --folder demo --project sample --package flaky.sh --retry 1 --json \
         | python3 -c 'import json,sys; print(json.load(sys.stdin)["execution_id"])')")
for _ in 1 2; do
  ids+=("$(manage exec run --folder demo --project sample --package checksum.sh --json \
           | python3 -c 'import json,sys; print(json.load(sys.stdin)["execution_id"])')")
done
say "an environment: Greeting bound to the variable Salutation of environment 'evening'"
manage env create evening --folder demo >/dev/null
manage env var evening --folder demo "Salutation=Good evening" >/dev/null
ref="$(manage env ref evening --folder demo --project sample)"
manage project param --folder demo --project sample Greeting --env-var Salutation >/dev/null
ids+=("$(manage exec run --folder demo --project sample --package hello.sh --env-ref "$ref" \
         --param Name=Ada --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["execution_id"])')")
manage exec wait "${ids[@]}" --timeout 120

say "executions (status and the worker that ran each)"
manage exec list
say "the retried one, with its attempts"
manage exec show "${ids[4]}"
say "the one run with environment 'evening' (reference $ref): its output"
manage exec log "${ids[-1]}"
say "workers"
manage worker list
if [ "${SCALEOUT_MAIN_JOB_HOLD:-0}" = "1" ]; then
  say "holding the cluster; Ctrl-C stops everything"
  echo "   web dashboard: https://127.0.0.1:$port/ (sign in with the token below; the browser"
  echo "   must trust $work/master/master.crt, SHA-256 $master_pin)"
  echo "   export SCALEOUT_MASTER=$SCALEOUT_MASTER SCALEOUT_MASTER_THUMBPRINT=$master_pin"
  echo "   export SCALEOUT_TOKEN=$token"
  trap 'exit 0' INT TERM
  while :; do sleep 1; done
fi
say "done; stopping the master and the workers"
