#!/usr/bin/env bash
# Runs a real tuning on this machine: a Temporal dev server, the Lambda
# emulator with its sample functions, and the powertune worker, then tunes the
# `u-shaped` sample with `temporal workflow execute` and prints the result.
# Everything listens on 127.0.0.1 and stops when the script ends.
set -euo pipefail
cd "$(dirname "$0")/.."

FUNCTION="${1:-u-shaped}"
# 5 % of real time: the simulated durations in the logs stay real-sized.
TIME_SCALE="${POWERTUNE_DEMO_TIME_SCALE:-0.05}"

scripts/install-tools.sh
echo "building powertune and lambda-emulator"
cargo build --quiet --bin powertune --bin lambda-emulator
target_dir="${CARGO_TARGET_DIR:-target}"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
temporal_port=$(free_port)
emulator_port=$(free_port)
logs=$(mktemp -d)
pids=()
keep_logs=1
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$keep_logs" = 0 ]; then rm -rf "$logs"; else echo "logs of the servers and the worker: $logs"; fi
}
trap cleanup EXIT

wait_for() {
  local what=$1 check=$2
  for _ in $(seq 1 300); do
    if eval "$check" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "$what did not start; its log is in $logs" >&2
  exit 1
}

echo "starting the Temporal dev server on 127.0.0.1:$temporal_port"
temporal server start-dev --headless --ip 127.0.0.1 --port "$temporal_port" --log-level error >"$logs/temporal.log" 2>&1 &
pids+=($!)
wait_for "Temporal" "temporal operator cluster health --address 127.0.0.1:$temporal_port"

echo "starting the Lambda emulator on 127.0.0.1:$emulator_port"
"$target_dir/debug/lambda-emulator" --samples --time-scale "$TIME_SCALE" --listen "127.0.0.1:$emulator_port" >"$logs/emulator.log" 2>&1 &
pids+=($!)
wait_for "the emulator" "grep -q 'listening on' $logs/emulator.log"

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_ENDPOINT_URL_LAMBDA="http://127.0.0.1:$emulator_port" AWS_ENDPOINT_URL_S3="http://127.0.0.1:$emulator_port"

echo "starting the powertune worker on task queue power-tuning"
"$target_dir/debug/powertune" worker --address "127.0.0.1:$temporal_port" >"$logs/worker.log" 2>&1 &
pids+=($!)
wait_for "the worker" "grep -q 'worker started' $logs/worker.log"

input=$(printf '{"lambdaARN":"arn:aws:lambda:us-east-1:123456789012:function:%s","num":10,"powerValues":[128,256,512,1024,1536,3008],"strategy":"cost","includeOutputResults":true}' "$FUNCTION")
echo
echo "temporal workflow execute --type PowerTuning --task-queue power-tuning --input '$input'"
temporal workflow execute --address "127.0.0.1:$temporal_port" \
  --type PowerTuning --task-queue power-tuning --workflow-id "demo-$FUNCTION-$(date +%s)" \
  --input "$input" --output json >"$logs/result.json"
python3 - "$logs/result.json" <<'SUMMARY'
import json, sys
result = json.load(open(sys.argv[1]))["result"]
print()
print("winner: %d MB, %.3g USD per invocation, %.1f ms average (strategy: cost)" % (result["power"], result["cost"], result["duration"]))
print()
print("%8s  %14s  %12s  %10s" % ("memory", "cost (USD)", "duration ms", "p90 ms"))
for stats in result.get("stats", []):
    print("%5d MB  %14.3g  %12.1f  %10.1f" % (stats["power"], stats["cost"], stats["duration"], stats["p90"]))
print()
print("chart: " + result["stateMachine"]["visualization"])
print()
print("full result:")
print(json.dumps(result, indent=2))
SUMMARY
keep_logs=0
