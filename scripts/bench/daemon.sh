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
# the spare shim tetherd keeps started for the next run stays (it is counted with the shims' memory below)
no_shims_left() { [ "$(shims_of "$socket" | wc -l)" -le 1 ]; }
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
    for _ in $(seq 400); do no_shims_left && break; sleep 0.005; done  # removals finish after rm answers (the spare stays)
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

# Where the time of `tetherctl run --rm` goes: tetherctl traced for its connections (start, Run, Wait, Remove; lines
# are "PID TIME call" with -f, which --seccomp-bpf needs to trace only those calls) and
# tetherd (strace -p, -s 48 to see the method) inside Run: from the request to sending Create (record, bundle; the
# shim was started before the request, as the spare), Create and Start; medians of $profile_runs runs.
profile_runs=${DAEMON_PROFILE_RUNS:-15}
strace -p "$tetherd_pid" -ttt -s 48 -e trace=sendto,read,recvfrom -o "$work/tetherd.trace" 2>>"$log" &
tracer=$!
sleep 0.3
for i in $(seq "$profile_runs"); do
  strace -f --seccomp-bpf -ttt -e trace=execve,connect,exit_group -o "$work/tetherctl.$i.trace" \
    "$BIN/tetherctl" run --socket "$socket" --rm "$ROOTFS" /bin/true
  awk '/execve/{s=$2} /connect\(/{c[++k]=$2} /exit_group/{e=$2}
       END{printf "%.2f %.2f %.2f %.2f %.2f\n", (c[1]-s)*1000, (c[2]-c[1])*1000, (c[3]-c[2])*1000, (e-c[3])*1000, (e-s)*1000}' \
    "$work/tetherctl.$i.trace"
done > "$work/client.phases"
kill -INT "$tracer"; wait "$tracer" 2>/dev/null || true
awk '/read\(.*tether\.daemon\.v1\.Daemon\\22\\3Run/{c=$1; st=2}
     st==2 && /sendto\(.*containerd\.task\.v2\.T/ {cs=$1; st=3}
     st==3 && /(read|recvfrom)\(.*= [1-9][0-9]*$/ {cr=$1; st=4}
     st==4 && /sendto\(.*containerd\.task\.v2\.T/ {ss=$1; st=5}
     st==5 && /(read|recvfrom)\(.*= [1-9][0-9]*$/ {printf "%.2f %.2f %.2f\n", (cs-c)*1000, (cr-cs)*1000, ($1-ss)*1000; st=0}' \
  "$work/tetherd.trace" > "$work/daemon.phases"
column_median() { awk -v c="$1" '{print $c}' "$2" | median; }

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

# rm answers once the record is gone; the shims delete their tasks and exit after: timed until only the spare is left.
start=$(date +%s%N)
tetherctl_ ps -aq | xargs -r "$BIN/tetherctl" rm --socket "$socket" -f >/dev/null
wait_until no_shims_left
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
echo "Where \`tetherctl run --rm\` spends its time (ms, medians of $profile_runs traced runs, so a little slower than above):"
echo "tetherctl from its exec to its first connection, then each of its three calls; inside Run, tetherd from the request"
echo "to sending Create (checks, bundle; the shim is the spare tetherd started before, so no process start waits), then"
echo "the shim's Create (overlay mount, runtime create: cgroups, namespaces, mounts, pivot_root, seccomp) and Start;"
echo "\"tetherd\" is the rest of Run (record, reply, tetherctl's side of the call)."
echo
until_create=$(column_median 1 "$work/daemon.phases"); create=$(column_median 2 "$work/daemon.phases"); task_start=$(column_median 3 "$work/daemon.phases")
run_call=$(column_median 2 "$work/client.phases")
echo "| tetherctl start | Run: request → Create sent | Run: Create | Run: Start | Run: tetherd | Wait | Remove | total |"
echo "|---|---|---|---|---|---|---|---|"
echo "| $(column_median 1 "$work/client.phases") | $until_create | $create | $task_start | $(awk -v r="$run_call" -v a="$until_create" -v b="$create" -v c="$task_start" 'BEGIN{printf "%.2f", r-a-b-c}') | $(column_median 3 "$work/client.phases") | $(column_median 4 "$work/client.phases") | $(column_median 5 "$work/client.phases") |"
echo
echo "$count \`run -d ROOTFS /bin/sleep 1000\` at once (\`xargs -P $count\`): wall time until all are listed as running."
echo "Memory with them running, kB from smaps_rollup: the daemon (RSS / PSS / USS / Anon) and the PSS summed over its shims"
echo "(tetherd's count the spare shim it keeps started for the next \`run\`, here and after the restart)."
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
echo
run_rm_ms=$(jq -r '.results[0].median*1000*100|floor/100' "$OUT/daemon-run-rm-tether.json")
verdict() { awk -v value="$1" -v limit="$2" 'BEGIN{print (value < limit ? "met" : "missed")}'; }
echo "Goals: \`tetherctl run --rm\` under 15 ms: $(verdict "$run_rm_ms" 15) ($run_rm_ms ms);"
echo "tetherd under 10 MB with $count containers: RSS $(verdict "$tetherd_rss" 10240) ($tetherd_rss kB, of which $tetherd_anon kB anonymous)."
exit 0
