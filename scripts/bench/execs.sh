#!/usr/bin/env bash
# Section: memory growth of one shim over many short execs (`true`) in one container, each one Exec, Start, Wait
# and Delete over one ttrpc connection (`tether-harness exec-loop`), with an events server attached as a manager
# would be. Memory (smaps_rollup) and open descriptors of the shim before, after the first N/10 and after N execs;
# containerd-shim-runc-v2 (+ runc) driven the same way, over fewer execs (runc exec is slower).
source "$BENCH_HERE/lib.sh"
work=$(mktemp -d /tmp/tether-bench-execs.XXXXXX)
H="$BIN/tether-harness"
count=${EXECS_COUNT:-10000}
peer_count=${EXECS_PEER_COUNT:-1000}
runc_shim=/usr/bin/containerd-shim-runc-v2
log="$OUT/execs.log"
: > "$log"
cleanup() {
  set +e
  stop_harness_shims "$work"
  [ -n "${events_pid:-}" ] && kill "$events_pid" 2>/dev/null && wait "$events_pid" 2>/dev/null
  unmount_below "$work"
  rm -rf "$work"
  true
}
trap cleanup EXIT

"$H" events --listen "$work/events.sock" >/dev/null 2>&1 &
events_pid=$!
for _ in $(seq 100); do [ -S "$work/events.sock" ] && break; sleep 0.05; done

# point LABEL EXECS PID [MS_PER_EXEC]: one table row of the shim's memory and descriptors now.
point() {
  local label=$1 execs=$2 pid=$3 per=${4:-–}
  read -r rss pss _ anon < <(mem_of "$pid")
  echo "| $label | $execs | $rss | $pss | $anon | $(ls "/proc/$pid/fd" | wc -l) | $per |"
}

# run_shim LABEL BINARY TOTAL: spawns the shim with a `sleep` container, then TOTAL/10 and the rest of TOTAL execs.
run_shim() {
  local label=$1 binary=$2 total=$3 dir="$work/$4" id=$4 addr pid first rest
  mkbundle "$dir" /bin/sleep 100000 >/dev/null 2>&1
  mkfifo "$dir/log"; exec 7<>"$dir/log"  # containerd's shim log FIFO, as containerd holds it
  addr=$("$H" spawn --bundle "$dir" --id "$id" --namespace benchexecs --binary "$binary" --events "$work/events.sock" \
    --address "$work/manager.sock")
  echo "$addr" > "$work/$id.addr"
  "$H" create --socket "$addr" --id "$id" --bundle "$dir" --timeout 60 >>"$log"
  "$H" start --socket "$addr" --id "$id" --timeout 60 >>"$log"
  pid=$("$H" connect --socket "$addr" --id "$id" --timeout 10 | jq -r .shim_pid)
  point "$label" 0 "$pid"
  first=$((total / 10)); rest=$((total - first))
  for n in "$first" "$rest"; do
    local per
    per=$("$H" exec-loop --socket "$addr" --id "$id" --exec-id "e$n" --count "$n" --timeout 60 /bin/true | tee -a "$log" | jq -r .ms_per_exec)
    sleep 1  # events delivered, timers settled
    point "$label" "$([ "$n" = "$first" ] && echo "$first" || echo "$total")" "$pid" "$per"
  done
  "$H" kill --socket "$addr" --id "$id" --signal KILL --all --timeout 10 >>"$log" 2>&1 || true
  "$H" wait --socket "$addr" --id "$id" --timeout 10 >>"$log" 2>&1 || true
  "$H" delete --socket "$addr" --id "$id" --timeout 10 >>"$log" 2>&1 || true
  "$H" shutdown --socket "$addr" --id "$id" --now --timeout 10 >>"$log" 2>&1 || true
  rm -f "$work/$id.addr"
  exec 7>&-
}

echo "## Memory over many execs in one container"
echo
echo "\`scripts/bench/execs.sh\` (\`BENCH_SECTIONS=execs make bench\`): one \`sleep\` container per shim, then"
echo "\`tether-harness exec-loop --count N /bin/true\` (Exec, Start, Wait, Delete per exec, one connection; an events"
echo "server takes the events). Shim memory in kB from /proc/PID/smaps_rollup, open descriptors from /proc/PID/fd,"
echo "after a 1 s pause; ms/exec is the mean over that step."
echo
echo "| shim | execs | RSS | PSS | Anon | fds | ms/exec |"
echo "|---|---|---|---|---|---|---|"
run_shim "tether-shim + tether-runtime" "$BIN/tether-shim" "$count" t1
if [ -x "$runc_shim" ]; then
  run_shim "containerd-shim-runc-v2 + runc" "$runc_shim" "$peer_count" r1
fi
echo
echo "Goal: no growth with the number of execs (every exec's record, descriptors and timers gone after its Delete)."
exit 0
