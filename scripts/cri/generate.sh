#!/usr/bin/env bash
# Regenerates the committed Python CRI client code (api_pb2.py, api_pb2_grpc.py) from scripts/cri/api.proto
# with Debian's protoc (protobuf-compiler) and gRPC's Python plugin (protobuf-compiler-grpc).
#
#   scripts/cri/generate.sh        (or: make cri-client)
set -euo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"
command -v protoc >/dev/null || { echo "generate.sh: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }
PLUGIN="$(command -v grpc_python_plugin)" || {
  echo "generate.sh: grpc_python_plugin not found (apt-get install protobuf-compiler-grpc)" >&2; exit 1; }
cd "$DIR"
protoc -I . --python_out=. --grpc_python_out=. --plugin=protoc-gen-grpc_python="$PLUGIN" api.proto
