#!/usr/bin/env bash
# Regenerates the committed Swift protobuf code of the TTRPC and TetherAPI modules from their .proto files
# with protoc and swift-protobuf's protoc-gen-swift (the version Package.swift resolves, 1.39.0), and the typed
# ttrpc method descriptors of their service blocks with scripts/proto-methods.sh (`<file>.methods.swift`).
#
#   scripts/proto.sh            (or: make proto)
#
# The plugin is built once, outside the repository, in $SWIFT_PROTOBUF_DIR (default /tmp/swift-protobuf),
# from the offline mirror of apple/swift-protobuf; that takes about a minute to ten on this machine.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SWIFT_PROTOBUF_TAG="${SWIFT_PROTOBUF_TAG:-1.39.0}"
SWIFT_PROTOBUF_DIR="${SWIFT_PROTOBUF_DIR:-/tmp/swift-protobuf}"
SWIFT_PROTOBUF_MIRROR="${SWIFT_PROTOBUF_MIRROR:-/opt/swift-packages/apple/swift-protobuf.git}"
PLUGIN="$SWIFT_PROTOBUF_DIR/.build/release/protoc-gen-swift"
export PATH="/opt/swift/usr/bin:$PATH"

command -v protoc >/dev/null || { echo "proto.sh: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }

if [[ ! -x "$PLUGIN" ]]; then
  if [[ ! -d "$SWIFT_PROTOBUF_DIR/.git" ]]; then
    git clone -q "$SWIFT_PROTOBUF_MIRROR" "$SWIFT_PROTOBUF_DIR"
  fi
  git -C "$SWIFT_PROTOBUF_DIR" checkout -q "$SWIFT_PROTOBUF_TAG"
  echo "proto.sh: building protoc-gen-swift $SWIFT_PROTOBUF_TAG in $SWIFT_PROTOBUF_DIR" >&2
  (cd "$SWIFT_PROTOBUF_DIR" && swift build -c release --product protoc-gen-swift >&2)
fi

# google/protobuf/*.proto (Any, Empty, Timestamp) come with swift-protobuf and map to its runtime types.
WKT="$SWIFT_PROTOBUF_DIR/Protos/Sources/SwiftProtobuf"

generate() {  # generate <module> <visibility>
  local module="$1" visibility="$2"
  local proto_dir="$ROOT/Sources/$module/Proto" out_dir="$ROOT/Sources/$module/Generated"
  rm -rf "$out_dir"
  mkdir -p "$out_dir"
  (cd "$proto_dir" && find . -name '*.proto' | sed 's|^\./||' | sort) | while read -r file; do
    protoc --plugin=protoc-gen-swift="$PLUGIN" -I "$proto_dir" -I "$WKT" \
      --swift_opt=Visibility="$visibility" --swift_opt=FileNaming=PathToUnderscores \
      --swift_out="$out_dir" "$proto_dir/$file"
    local methods
    methods="$("$ROOT/scripts/proto-methods.sh" "$proto_dir/$file" "$file" "$visibility")"
    if [[ -n "$methods" ]]; then
      printf '%s\n' "$methods" > "$out_dir/$(echo "${file%.proto}" | tr / _).methods.swift"
    fi
  done
  echo "proto.sh: $module: $(ls "$out_dir" | wc -l) files in Sources/$module/Generated" >&2
}

generate TTRPC Internal
generate TetherAPI Public
