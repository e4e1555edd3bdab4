#!/usr/bin/env bash
# Section: tetherd + tetherctl against containerd + ctr (containerd-shim-runc-v2 + runc), side by side in one run:
#   - `run --rm` of /bin/true (hyperfine -N), the full lifecycle through the daemon;
#   - 100 `sleep` containers started at once (xargs -P 100), wall time until all 100 are listed as running;
#   - the daemon's memory with those 100 running (smaps_rollup), and the sum over their 100 shims;
#   - each daemon's restart with those 100 shims alive: `kill -9`, start, time until it answers and until it
#     lists all 100 as running again.
# Both daemons are private (state under /tmp, own sockets); the busybox rootfs is the same for both.
source "$BENCH_HERE/lib.sh"
work=$(mktemp -d /tmp/tether-bench-daemon.XXXXXX)
runs=${DAEMON_RUNS:-50}
count=${DAEMON_CONTAINERS:-100}
ctr_count=${DAEMON_CTR_CONTAINERS:-$count}  # 0 skips containerd's many-containers rows
log="$OUT/daemon.log"
: > "$log"
socket="$work/tetherd.sock"
# tetherctl_ COMMAND ARGS...: tetherctl on the private tetherd (--socket is an option of each subcommand).
tetherctl_() { local command=$1; shift; "$BIN/tetherctl" "$command" --socket "$socket" "$@"; }
tetherd_pid=""

# tetherd_start: a private tetherd (root, state and socket under $work); sets tetherd_pid.
tetherd_start() {
  "$BIN/tetherd" --root "$work/root" --state "$work/state" --socket "$socket" </dev/null >>"$log" 2>&1 &
  tetherd_pid=$!
}
# tetherd_running_count: how many containers `tetherctl ps` lists as running (empty when tetherd does not answer).
tetherd_running_count() { tetherctl_ ps -q 2>/dev/null | wc -l || true; }
# shims_of ADDRESS: pids of live shim processes serving the daemon at ADDRESS (their -address argument).
shims_of() { pgrep -f -- "-address $1( |$)" || true; }
# pss_sum PID...: the sum of their PSS (kB).
pss_sum() { local total=0 pid; for pid in "$@"; do total=$((total + $(mem_of "$pid" | awk '{print $2}'))); done; echo "$total"; }
# wait_until COMMAND...: polls every 5 ms (6000 times) until COMMAND succeeds.
wait_until() { local i; for i in $(seq 6000); do "$@" && return 0; sleep 0.005; done; echo "daemon: gave up waiting for $*" >>"$log"; return 1; }
all_running() { [ "$(tetherd_running_count)" -eq "$count" ]; }
answers() { tetherctl_ ps -q >/dev/null 2>&1; }
# ctr_running: the running tasks' lines of `ctr task ls` (fails only when containerd does not answer).
ctr_running() { local tasks; tasks=$(ctr_ task ls 2>/dev/null) || return 1; grep RUNNING <<<"$tasks" || true; }
ctr_all_running() { [ "$(ctr_running | wc -l)" -eq "$ctr_count" ]; }
# time_restart COUNT START_NS LIST_COMMAND...: polls LIST_COMMAND (one line per running container) every 5 ms;
# prints the ms from START_NS to its first answer and to its listing COUNT containers.
time_restart() {
  local count=$1 start=$2 answered="" listed now; shift 2
  for _ in $(seq 6000); do
    if listed=$("$@" 2>/dev/null); then
      now=$(date +%s%N)
      [ -n "$answered" ] || answered=$(ms "$start" "$now")
      if [ "$(grep -c . <<<"$listed")" -eq "$count" ]; then echo "$answered $(ms "$start" "$now")"; return 0; fi
    fi
    sleep 0.005
  done
  echo "daemon: gave up waiting for $count listed by $*" >>"$log"
  return 1
}

cleanup() {
  set +e
  if [ -n "$tetherd_pid" ]; then
    tetherctl_ ps -aq 2>/dev/null | xargs -r "$BIN/tetherctl" rm --socket "$socket" -f >/dev/null 2>&1
    kill -9 "$tetherd_pid" 2>/dev/null; wait "$tetherd_pid" 2>/dev/null
  fi
  # shims whose container is gone exit by themselves; any left (tetherd died mid-way) are ours by address
  for pid in $(shims_of "$socket"); do kill -9 "$pid" 2>/dev/null; done
  [ -n "${containerd_pid:-}" ] && containerd_stop
  unmount_below "$work"
  rm -rf "$work"
  true
}
trap cleanup EXIT

mkdir -p "$work/ctrd"
containerd_start "$work/ctrd"
tetherd_start
wait_until answers
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# 1. run --rm /bin/true
hyperfine -N --warmup 3 --runs "$runs" --export-json "$OUT/daemon-run-rm-tether.json" \
  "$BIN/tetherctl run --socket $socket --rm $ROOTFS /bin/true" >>"$log" 2>&1
hyperfine -N --warmup 3 --runs "$runs" --export-json "$OUT/daemon-run-rm-ctr.json" \
  "${ctr_cmd[*]} run --rm --rootfs $ROOTFS daemon-rm-$$ /bin/true" >>"$log" 2>&1

# 2.-4. tetherd with $count containers started at once
start=$(date +%s%N)
seq "$count" | xargs -P "$count" -I{} "$BIN/tetherctl" run --socket "$socket" -d "$ROOTFS" /bin/sleep 1000 >>"$log" 2>&1
wait_until all_running
tether_start_ms=$(ms "$start" "$(date +%s%N)")
read -r tetherd_rss tetherd_pss tetherd_uss tetherd_anon < <(mem_of "$tetherd_pid")
tether_shims=($(shims_of "$socket"))
tether_shims_pss=$(pss_sum "${tether_shims[@]}")

kill -9 "$tetherd_pid"; wait "$tetherd_pid" 2>/dev/null || true
start=$(date +%s%N)
tetherd_start
read -r answer_ms reconnect_ms < <(time_restart "$count" "$start" tetherctl_ ps -q)
read -r restarted_rss restarted_pss restarted_uss restarted_anon < <(mem_of "$tetherd_pid")
restarted_shims=$(shims_of "$socket" | wc -l)

start=$(date +%s%N)
tetherctl_ ps -aq | xargs -r "$BIN/tetherctl" rm --socket "$socket" -f >/dev/null
tether_rm_ms=$(ms "$start" "$(date +%s%N)")

# containerd with $ctr_count containers started at once
if [ "$ctr_count" -gt 0 ]; then
  start=$(date +%s%N)
  seq "$ctr_count" | xargs -P "$ctr_count" -I{} "${ctr_cmd[@]}" run -d --rootfs "$ROOTFS" "daemon-$$-{}" /bin/sleep 1000 >>"$log" 2>&1
  wait_until ctr_all_running
  ctr_start_ms=$(ms "$start" "$(date +%s%N)")
  read -r containerd_rss containerd_pss containerd_uss containerd_anon < <(mem_of "$containerd_pid")
  ctr_shims=($(shims_of "$work/ctrd/containerd.sock"))
  ctr_shims_pss=$(pss_sum "${ctr_shims[@]}")
  kill -9 "$containerd_pid"; wait "$containerd_pid" 2>/dev/null || true
  start=$(date +%s%N)
  containerd_launch "$work/ctrd"
  read -r ctr_answer_ms ctr_reconnect_ms < <(time_restart "$ctr_count" "$start" ctr_running)
  ctr_restarted_shims=$(shims_of "$work/ctrd/containerd.sock" | wc -l)
  start=$(date +%s%N)
  containerd_stop
  ctr_rm_ms=$(ms "$start" "$(date +%s%N)")
  containerd_pid=""
fi
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

echo "## tetherd against containerd"
echo
echo "A private tetherd (\`tetherctl\`) and a private containerd 1.6 (\`ctr\`, containerd-shim-runc-v2 + runc) in the"
echo "same run, on the same busybox rootfs (\`ctr run --rootfs\`, no image). Load average $load_start at the start, $load_end at the end."
echo
echo "\`run --rm ROOTFS /bin/true\`: hyperfine -N, $runs runs (3 warm-ups), ms. Goal: tetherctl under 15 ms."
echo
echo "| command | median ms | min | max | runs |"
echo "|---|---|---|---|---|"
hf_row "\`tetherctl run --rm\`" "$OUT/daemon-run-rm-tether.json"
hf_row "\`ctr run --rm\`" "$OUT/daemon-run-rm-ctr.json"
echo
echo "$count \`run -d ROOTFS /bin/sleep 1000\` at once (\`xargs -P $count\`): wall time until all are listed as running."
echo "Memory with them running, kB from smaps_rollup: the daemon (RSS / PSS / USS / Anon) and the PSS summed over its shims."
echo "Goal: tetherd under 10 MB (RSS) with 100 containers."
echo
echo "| daemon | containers | start all (ms) | daemon RSS / PSS / USS / Anon (kB) | shims | shims' PSS sum (kB) | rm -f all (ms) |"
echo "|---|---|---|---|---|---|---|"
echo "| tetherd | $count | $tether_start_ms | $tetherd_rss / $tetherd_pss / $tetherd_uss / $tetherd_anon | ${#tether_shims[@]} | $tether_shims_pss | $tether_rm_ms |"
if [ "$ctr_count" -gt 0 ]; then
  echo "| containerd | $ctr_count | $ctr_start_ms | $containerd_rss / $containerd_pss / $containerd_uss / $containerd_anon | ${#ctr_shims[@]} | $ctr_shims_pss | $ctr_rm_ms |"
fi
echo
echo "Restart with the containers running: \`kill -9\` the daemon, start it, then list the running containers every 5 ms"
echo "(\`tetherctl ps -q\`, \`ctr task ls\`; each time includes the last list command's own run time)."
echo
echo "| daemon | containers | start → first answer (ms) | start → all listed running (ms) | shims alive after |"
echo "|---|---|---|---|---|"
echo "| tetherd | $count | $answer_ms | $reconnect_ms | $restarted_shims |"
if [ "$ctr_count" -gt 0 ]; then
  echo "| containerd | $ctr_count | $ctr_answer_ms | $ctr_reconnect_ms | $ctr_restarted_shims |"
fi
echo
echo "tetherd after its restart: RSS / PSS / USS / Anon $restarted_rss / $restarted_pss / $restarted_uss / $restarted_anon kB."
exit 0
