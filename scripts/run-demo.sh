#!/usr/bin/env bash
# make run: a real container through tetherd and a tether-shim, on tetherd's default state directories
# (/var/lib/tether, /run/tether). Starts tetherd if it is not already serving, runs a container, lists it,
# and stops the tetherd it started.
#   usage: scripts/run-demo.sh BIN_DIR ROOTFS
set -euo pipefail
BIN=${1:?usage: run-demo.sh BIN_DIR ROOTFS}
ROOTFS=${2:?usage: run-demo.sh BIN_DIR ROOTFS}
socket=/run/tether/tetherd.sock
started=""
if ! "$BIN/tetherctl" ps >/dev/null 2>&1; then
  mkdir -p /run/tether
  setsid "$BIN/tetherd" </dev/null >>/run/tether/tetherd.log 2>&1 &
  started=$!
  for _ in $(seq 100); do "$BIN/tetherctl" ps >/dev/null 2>&1 && break; sleep 0.05; done
  echo "run: started tetherd (pid $started, log /run/tether/tetherd.log)"
fi
trap '[ -n "$started" ] && kill "$started" 2>/dev/null || true' EXIT
echo "run: tetherctl run --rm $ROOTFS /bin/sh -c '...'"
"$BIN/tetherctl" run --rm --hostname tether-demo "$ROOTFS" /bin/sh -c \
  'echo "hello from a Tether container: hostname $(hostname), pid $$, $(ls /proc | grep -c "^[0-9]") process(es) visible"'
id=$("$BIN/tetherctl" run -d --name "demo-$$" "$ROOTFS" /bin/sh -c 'echo detached output; sleep 0.2; exit 7')
"$BIN/tetherctl" wait "$id" >/dev/null || true
echo "run: tetherctl ps -a"
"$BIN/tetherctl" ps -a
echo "run: tetherctl logs demo-$$"
"$BIN/tetherctl" logs "demo-$$"
"$BIN/tetherctl" rm "demo-$$" >/dev/null
echo "run: done ($socket)"
