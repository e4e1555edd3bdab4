#!/usr/bin/env bash
# Section: containerd drives a shim. `ctr run -d` and `ctr task exec` latency with tether-shim against
# containerd-shim-runc-v2 on one private containerd, in the same run.
source "$BENCH_HERE/lib.sh"
work=$(mktemp -d /tmp/tether-bench-ctrd.XXXXXX)
runs=${CONTAINERD_RUNS:-20}
containerd_start "$work"
cleanup() {
  set +e
  containerd_stop
  unmount_below "$work"
  rm -rf "$work"
  true
}
trap cleanup EXIT

measure() { # label runtime-args...
  local label=$1; shift
  local runs_ms=() exec_ms=() i id start end
  for i in $(seq "$runs"); do
    id="b$label$i"
    start=$(date +%s%N); ctr_ run -d "$@" --rootfs "$ROOTFS" "$id" /bin/sleep 1000 >/dev/null; end=$(date +%s%N)
    runs_ms+=("$(ms "$start" "$end")")
    start=$(date +%s%N); ctr_ task exec --exec-id e1 "$id" /bin/true; end=$(date +%s%N)
    exec_ms+=("$(ms "$start" "$end")")
  done
  local pid; pid=$(ctr_ task ls | awk -v id="b${label}1" '$1==id{print $2}')
  local shim; shim=$(awk '/^PPid:/{print $2}' "/proc/$pid/status")
  read -r rss pss uss anon < <(mem_of "$shim")
  echo "| $label | $(printf '%s\n' "${runs_ms[@]}" | median) | $(printf '%s\n' "${exec_ms[@]}" | median) | $rss / $pss / $uss / $anon | $(threads_of "$shim") |"
  set +e
  for i in $(seq "$runs"); do
    ctr_ task kill -s SIGKILL "b$label$i" >/dev/null 2>&1
  done
  sleep 0.5
  for i in $(seq "$runs"); do ctr_ task delete "b$label$i" >/dev/null 2>&1; ctr_ container rm "b$label$i" >/dev/null 2>&1; done
}
echo "## containerd 1.6 drives the shim"
echo
echo "Private containerd, \`ctr run -d --rootfs DIR\` (no image) then \`ctr task exec\` of /bin/true, $runs containers each,"
echo "medians in ms (wall time of the ctr command). Memory of the first shim with $runs containers of its kind running (kB)."
echo
echo "| shim | ctr run -d (ms) | ctr task exec (ms) | shim RSS / PSS / USS / Anon (kB) | shim threads |"
echo "|---|---|---|---|---|"
measure runc --runtime io.containerd.runc.v2
measure tether --runtime "$BIN/tether-shim"
exit 0
