#!/usr/bin/env bash
# Runs the whole test suite: unit tests of every crate, the emulator's tests
# through the real AWS SDK, and the end-to-end tests, which start a Temporal
# dev server, the Lambda emulator and the `powertune worker` binary per test.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-tools.sh

# Static test credentials: without them the AWS SDK's credential chain probes
# the instance-metadata address.
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true

# The durability tests append one line per scenario here; the summary below
# reads it.
POWERTUNE_SUMMARY_FILE=$(mktemp)
export POWERTUNE_SUMMARY_FILE
test_log=$(mktemp)
trap 'rm -f "$POWERTUNE_SUMMARY_FILE" "$test_log"' EXIT

# The end-to-end tests run the binaries, so build them first.
cargo build --workspace --bins
cargo test --workspace -- --test-threads "${POWERTUNE_TEST_THREADS:-2}" 2>&1 | tee "$test_log"

python3 - "$POWERTUNE_SUMMARY_FILE" <<'SUMMARY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print()
print("durability scenarios run: %d" % len(rows))
print("faults injected:          %d" % sum(row["faults"] for row in rows))
print("resources left behind:    %d" % sum(row["leftBehind"] for row in rows))
for row in rows:
    print("  %-40s faults %5d  left behind %d" % (row["scenario"], row["faults"], row["leftBehind"]))
SUMMARY

# One closing line over every test binary, since cargo prints one per binary.
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "\n%d passed, %d failed\n", passed, failed }' "$test_log"
