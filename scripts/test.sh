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

# The end-to-end tests run the binaries, so build them first.
cargo build --workspace --bins
cargo test --workspace -- --test-threads "${POWERTUNE_TEST_THREADS:-2}"
