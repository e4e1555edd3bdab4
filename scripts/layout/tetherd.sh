#!/usr/bin/env bash
# Profiles tetherd under callgrind while tetherctl runs containers the ways the bench and users do (run --rm,
# run -d, ps, inspect, logs, exec, stop, rm -f, a restart that reconnects to live shims) and writes
# Sources/tetherd/hot-functions.order, which the release link of tetherd uses (Package.swift).
#   usage: scripts/layout/tetherd.sh BIN_DIR ROOTFS
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
BIN=${1:?usage: tetherd.sh BIN_DIR ROOTFS}
ROOTFS=${2:?usage: tetherd.sh BIN_DIR ROOTFS}
repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/tether-layout.XXXXXX)
socket="$work/tetherd.sock"
ctl() { local command=$1; shift; timeout 120 "$BIN/tetherctl" "$command" --socket "$socket" "$@"; }
tetherd_pid=
# tetherd_start N: tetherd under callgrind, its profile in $work/callgrind.N
tetherd_start() {
  valgrind --tool=callgrind --demangle=no --trace-children=no --callgrind-out-file="$work/callgrind.$1" \
    --log-file="$work/valgrind.$1.log" "$BIN/tetherd" --root "$work/root" --state "$work/state" --socket "$socket" \
    </dev/null >>"$work/tetherd.log" 2>&1 &
  tetherd_pid=$!
  for _ in $(seq 300); do ctl ps -q >/dev/null 2>&1 && return; sleep 0.1; done
  echo "layout: tetherd did not answer (see $work/tetherd.log)" >&2
  exit 1
}
tetherd_stop() { kill -TERM "$tetherd_pid" 2>/dev/null; wait "$tetherd_pid" 2>/dev/null || true; }
cleanup() {
  set +e
  [ -S "$socket" ] && ctl ps -aq 2>/dev/null | xargs -r "$BIN/tetherctl" rm --socket "$socket" -f >/dev/null 2>&1
  sleep 1
  tetherd_stop
  pkill -9 -f "tether-shim .*-address $socket" 2>/dev/null
  grep " $work" /proc/mounts | awk '{print $2}' | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

tetherd_start 1
for _ in 1 2 3; do ctl run --rm "$ROOTFS" /bin/true; done
ctl run -d --name a "$ROOTFS" /bin/sleep 1000 >/dev/null
ctl run -d --name b "$ROOTFS" /bin/sh -c 'echo hi; sleep 1000' >/dev/null
ctl ps >/dev/null; ctl ps -a >/dev/null; ctl inspect a >/dev/null; ctl logs b >/dev/null
ctl exec a /bin/true
tetherd_stop
# a restart: reconnects to the two live shims
tetherd_start 2
ctl ps -a >/dev/null
ctl stop -t 1 a >/dev/null
ctl rm -f a b >/dev/null
ctl run --rm "$ROOTFS" /bin/true
tetherd_stop
# the second run's functions after the first's: a restarted tetherd runs the same start-up first
cat "$work/callgrind.1" "$work/callgrind.2" > "$work/callgrind.both"
order_from_callgrind "$work/callgrind.both" "$repo/Sources/tetherd/hot-functions.order"
