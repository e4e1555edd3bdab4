#!/usr/bin/env bash
# What the test suite leaves behind: `snapshot` before `swift test`, `check` after; check fails (exit 1) listing
# every process, mount and /run/tether entry that is new since the snapshot and still there after a grace period.
#
#   scripts/check-leftovers.sh snapshot FILE BIN_DIR ROOTFS
#   scripts/check-leftovers.sh check    FILE BIN_DIR ROOTFS
#
# Processes: every process running one of this build's executables (/proc/PID/exe under BIN_DIR: tetherd,
# tether-shim, tether-runtime, ...) and every process whose root is an overlay of the test rootfs (a container's).
# Mounts: overlays with the test rootfs as their lower layer. /run/tether (the state the containerd-facing shim keeps
# there by default): shim sockets and containers' runtime state (not the directories that hold them, nor caches).
# Other worktrees' builds run other executables and other rootfs copies, so their processes and mounts never count,
# nor do sockets with a live listener and runtime state of a live container outside our rootfs; a dead leftover of
# another checkout's tests made meanwhile would (the grace period lets those that are cleaning up finish).
set -uo pipefail

action="${1:?usage: check-leftovers.sh snapshot|check FILE BIN_DIR ROOTFS}"
file="${2:?}"; bin_dir="$(readlink -f "${3:?}")"; rootfs="$(readlink -f "${4:?}")"

inventory() {
  local pid exe
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    [[ "$pid" == "$$" || "$pid" == "$BASHPID" ]] && continue
    exe="$(readlink "/proc/$pid/exe" 2>/dev/null)" || continue
    if [[ "$exe" == "$bin_dir"/* ]]; then
      echo "process $pid $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c1-200)"
    elif grep -qs "lowerdir=$rootfs[,:]" "/proc/$pid/mountinfo" && grep -qsE "^[0-9]+ [0-9]+ [0-9:]+ / / .*overlay" "/proc/$pid/mountinfo"; then
      echo "process $pid (in a container) $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c1-200)"
    fi
  done
  grep -s "lowerdir=$rootfs[,:]" /proc/self/mountinfo | awk '{ print "mount " $5 }'
  local path
  for path in /run/tether/* /run/tether/s/* /run/tether/runtime/*/*; do
    [[ -e "$path" ]] || continue
    case "$path" in
      /run/tether/s | /run/tether/runtime | /run/tether/runtime/*/@*) continue ;;  # structure and caches
    esac
    # A socket someone listens on, or a container whose init runs outside our rootfs, belongs to a live process of
    # another checkout (ours would be listed above as a process).
    if [[ -S "$path" ]] && grep -qsF " $path" /proc/net/unix; then continue; fi
    if [[ -f "$path/state.json" ]]; then
      pid="$(grep -o '"pid":[0-9]*' "$path/state.json" | head -1 | cut -d: -f2)"
      if [[ -n "$pid" && -d "/proc/$pid" ]] && ! grep -qs "lowerdir=$rootfs[,:]" "/proc/$pid/mountinfo"; then continue; fi
    fi
    echo "path $path"
  done
}

case "$action" in
  snapshot)
    inventory | sort > "$file"
    ;;
  check)
    [[ -f "$file" ]] || { echo "check-leftovers: no snapshot $file" >&2; exit 2; }
    for _ in $(seq 1 50); do  # up to 5 s for what is still exiting or being removed
      left="$(comm -13 "$file" <(inventory | sort))"
      [[ -z "$left" ]] && break
      sleep 0.1
    done
    rm -f "$file"
    if [[ -n "$left" ]]; then
      echo "check-leftovers: the tests left these behind:" >&2
      echo "$left" | sed 's/^/  /' >&2
      exit 1
    fi
    echo "check-leftovers: nothing left behind"
    ;;
  *) echo "usage: check-leftovers.sh snapshot|check FILE BIN_DIR ROOTFS" >&2; exit 2 ;;
esac
