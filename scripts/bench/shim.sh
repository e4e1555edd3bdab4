#!/usr/bin/env bash
# Section: the shim standalone, driven by tether-harness over ttrpc, against conmon 2.1.6 with runc
# (containerd-shim-runc-v2's numbers are in the containerd section): start-to-running latency and
# memory per idle supervisor with one container each, at 1 and 10 supervisors.
source "$BENCH_HERE/lib.sh"
work=$(mktemp -d /tmp/tether-bench-shim.XXXXXX)
H="$BIN/tether-harness"
count=${SHIM_COUNT:-10}
cleanup() {
  set +e
  stop_harness_shims "$work" .sock.addr
  for p in $(cat "$work"/conmon.pids 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  for id in $(runc --root "$work/runc" list -q 2>/dev/null); do runc --root "$work/runc" delete -f "$id" >/dev/null 2>&1; done
  unmount_below "$work"
  rm -rf "$work"
  true
}
trap cleanup EXIT

# start one supervised `sleep` with a harness-driven shim binary; prints the ms from spawn to Start returned
task_shim() { # binary id
  local binary=$1 id=$2 bundle="$work/$2"
  mkbundle "$bundle" /bin/sleep 100000 >/dev/null 2>&1
  local start end addr
  start=$(date +%s%N)
  addr=$("$H" spawn --bundle "$bundle" --id "$id" --namespace bench --binary "$binary")
  "$H" create --socket "$addr" --id "$id" --bundle "$bundle" --timeout 30 >/dev/null
  "$H" start --socket "$addr" --id "$id" --timeout 30 >/dev/null
  end=$(date +%s%N)
  echo "$addr" > "$work/$id.sock.addr"
  ms "$start" "$end"
}

# conmon + runc, as podman drives it: conmon runs `runc create`, then `runc start`
conmon_one() { # id
  local id=$1 bundle="$work/$1" start end
  mkbundle "$bundle" /bin/sleep 100000 >/dev/null 2>&1
  mkdir -p "$work/exits" "$work/socks" "$work/persist/$id"
  start=$(date +%s%N)
  conmon --api-version 1 -c "$id" -u "$id" -n "$id" -r "$(command -v runc)" --runtime-arg "--root=$work/runc" \
    -b "$bundle" -p "$bundle/pidfile" -P "$bundle/conmon.pid" -l "k8s-file:$bundle/log" --exit-dir "$work/exits" \
    --socket-dir-path "$work/socks" -0 "$work/persist/$id" --log-level error >/dev/null 2>&1
  runc --root "$work/runc" start "$id" >/dev/null 2>&1
  end=$(date +%s%N)
  cat "$bundle/conmon.pid" >> "$work/conmon.pids"; echo >> "$work/conmon.pids"
  ms "$start" "$end"
}

row() { # label pid-list-file latencies... ("-" when not measured)
  local label=$1 pids=$2; shift 2
  local first; first=$(head -1 "$pids")
  read -r rss pss uss anon < <(mem_of "$first")
  local pss_sum=0 anon_sum=0 n=0 p
  for p in $(cat "$pids"); do
    read -r _ ps _ an < <(mem_of "$p"); pss_sum=$((pss_sum + ps)); anon_sum=$((anon_sum + an)); n=$((n + 1))
  done
  local latency="–"; [ "$1" != "-" ] && latency=$(printf '%s\n' "$@" | median)
  echo "| $label | $latency | $rss / $pss / $uss / $anon | $((pss_sum / n)) / $((anon_sum / n)) | $(threads_of "$first") |"
}

declare -a tl cl
for i in $(seq "$count"); do tl+=("$(task_shim "$BIN/tether-shim" "t$i")"); done
for i in $(seq "$count"); do cl+=("$(conmon_one "c$i")"); done
sleep 0.5
pgrep -f "tether-shim -namespace bench" > "$work/t.pids" || true
grep -v '^$' "$work/conmon.pids" > "$work/c.pids" || true

echo "## The shim standalone (tether-harness drives it over ttrpc)"
echo
echo "$count supervisors, one \`sleep\` container each, started one after the other. Latency: spawn of the"
echo "supervisor to the container running (tether-shim: three tether-harness runs, start contract + Create + Start"
echo "over ttrpc; conmon: conmon running \`runc create\` + \`runc start\`), median ms. Memory in kB from smaps_rollup."
echo "containerd-shim-runc-v2 is measured under containerd in the next section. conmon's start latency is not measured"
echo "here (its parent returns before \`runc create\` is done without podman's sync pipe); its memory is, once running."
echo
echo "| supervisor | start → running (ms) | first: RSS / PSS / USS / Anon | mean of $count: PSS / Anon | threads |"
echo "|---|---|---|---|---|"
row "tether-shim" "$work/t.pids" "${tl[@]}"
row "conmon 2.1.6 (+ runc)" "$work/c.pids" "-"
# the first shim again after one exec of /bin/true in its container (Exec, Start, Wait, Delete): what an exec probe
# leaves resident
first_addr=$(cat "$work/t1.sock.addr")
"$H" exec-loop --socket "$first_addr" --id t1 --exec-id probe --count 1 --timeout 30 /bin/true >/dev/null
sleep 1.5  # past the 1 s tick (malloc_trim)
first_pid=$("$H" connect --socket "$first_addr" --id t1 --timeout 10 | jq -r .shim_pid)
read -r rss pss uss anon < <(mem_of "$first_pid")
echo
echo "The first tether-shim after one exec in its container (\`tether-harness exec-loop --count 1 /bin/true\`):"
echo "RSS / PSS / USS / Anon $rss / $pss / $uss / $anon kB."
echo
echo "Goals: 1 thread; anonymous memory at most conmon's; PSS per shim at $count shims under 1 MB."
exit 0
