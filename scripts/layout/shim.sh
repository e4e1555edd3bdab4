#!/usr/bin/env bash
# Profiles the long-lived tether-shim under callgrind through one container's life (Create, Start, the idle
# loop, the exit, Delete, Shutdown) and writes Sources/tether-shim/hot-functions.order, which the release link
# of tether-shim uses (Package.swift). Rerun it (`make layout`) after changing what the shim runs.
#   usage: scripts/layout/shim.sh BIN_DIR ROOTFS
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
BIN=${1:?usage: shim.sh BIN_DIR ROOTFS}
ROOTFS=${2:?usage: shim.sh BIN_DIR ROOTFS}
repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/tether-layout.XXXXXX)
socket=/run/tether/s/layout-$$
harness() { timeout 120 "$BIN/tether-harness" "$@" --socket "unix://$socket" --id layout --timeout 60 >/dev/null; }
cleanup() {
  set +e
  # After a normal run the shim is gone already and these find nobody.
  { harness kill --signal KILL --all; harness delete; harness shutdown --now; } 2>/dev/null
  umount -l "$work/bundle/rootfs" 2>/dev/null
  rm -rf "$work" "$socket"
}
trap cleanup EXIT

mkdir -p "$work/bundle/rootfs" /run/tether/s
chmod 700 /run/tether/s
mount --bind "$ROOTFS" "$work/bundle/rootfs"
# No rlimits: valgrind keeps fds of its own and refuses a process raising RLIMIT_NOFILE past them.
(cd "$work/bundle" && runc spec && jq '.process.args = ["/bin/sleep", "2"] | .process.terminal = false | del(.process.rlimits)' config.json > c && mv c config.json)
# The server as tether-shim start runs it (listener on fd 3, own session), under callgrind: `start` itself
# re-executes /proc/self/exe, which under valgrind is valgrind's.
python3 - "$socket" "$work" "$BIN/tether-shim" <<'PY'
import os, socket, sys
path, work, shim = sys.argv[1:4]
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(path)
listener.listen(64)
os.dup2(listener.fileno(), 3)
os.set_inheritable(3, True)
if os.fork() == 0:
    os.setsid()
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.execvp("valgrind", ["valgrind", "--tool=callgrind", "--demangle=no", "--trace-children=no",
                           f"--callgrind-out-file={work}/callgrind.out", f"--log-file={work}/valgrind.log",
                           shim, "-namespace", "layout", "-id", "layout", "-address", "/run/tether/layout-events.sock",
                           "-bundle", f"{work}/bundle"])
PY
# The socket is bound already: the calls queue until the shim, slow under valgrind, accepts them.
harness create --bundle "$work/bundle"
harness start
harness wait
harness state
harness delete
harness shutdown --now
for _ in $(seq 100); do [ -s "$work/callgrind.out" ] && ! pgrep -f "callgrind-out-file=$work" >/dev/null && break; sleep 0.1; done
order_from_callgrind "$work/callgrind.out" "$repo/Sources/tether-shim/hot-functions.order"
