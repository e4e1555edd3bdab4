#!/usr/bin/env bash
# What the test suite leaves behind: `snapshot` before `swift test`, `check` after; check fails (exit 1) listing
# every process, mount and /run/tether entry that is new since the snapshot and still there after a grace period.
#
#   scripts/check-leftovers.sh snapshot FILE BIN_DIR ROOTFS
#   scripts/check-leftovers.sh check    FILE BIN_DIR ROOTFS
#
# Processes: every process running one of this build's executables (/proc/PID/exe under BIN_DIR: tetherd,
# tether-shim, tether-runtime, ...) and every process whose root is an overlay of the test rootfs (a container's).
# Mounts: overlays with the test rootfs as their lower layer. Directories: entries of /run/tether (two levels, the
# state the containerd-facing shim keeps there by default). Other worktrees' builds run other executables and other
# rootfs copies, so their processes and mounts never count; a /run/tether entry another checkout's tests make
# meanwhile would (the grace period lets those that are cleaning up finish).
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
  if [[ -d /run/tether ]]; then
    find /run/tether -mindepth 1 -maxdepth 3 2>/dev/null | sed 's/^/path /'
  fi
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
