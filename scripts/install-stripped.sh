#!/bin/bash
# install-stripped.sh BINARY DEST DEBUG_DIR: installs BINARY at DEST without its debug info and symbol table, and
# keeps them apart as Debian's -dbgsym packages do: DEBUG_DIR/.build-id/xx/rest-of-build-id.debug, where gdb and
# eu-stack look them up by the binary's build id (DEBUG_DIR is $(PREFIX)/lib/debug). A .gnu_debuglink names the
# file too, for tools that look by name. A crash's backtrace keeps its function names once the .debug is present.
set -euo pipefail
binary=$1 dest=$2 debug_dir=$3
command -v objcopy >/dev/null || { echo "install: needs objcopy (apt-get install binutils)" >&2; exit 1; }

build_id=$(readelf -n "$binary" | sed -n 's/^ *Build ID: *\([0-9a-f]*\)$/\1/p')
[ -n "$build_id" ] || { echo "install: $binary has no build id (NT_GNU_BUILD_ID)" >&2; exit 1; }
debug_file="$debug_dir/.build-id/${build_id:0:2}/${build_id:2}.debug"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
debug_name=$(basename "$debug_file")  # the debuglink records the name and a CRC of the file it names
objcopy --only-keep-debug --compress-debug-sections "$binary" "$work/$debug_name"
objcopy --strip-all --add-gnu-debuglink="$work/$debug_name" "$binary" "$work/stripped"

install -d "$(dirname "$debug_file")" "$(dirname "$dest")"
install -m 0644 "$work/$debug_name" "$debug_file"
install -m 0755 "$work/stripped" "$dest"
