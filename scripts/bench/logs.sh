#!/usr/bin/env bash
# Section: log throughput, container stdout → supervisor → log, side by side in one run:
#   - CRI log format: conmon 2.1.6 (+ runc) with its k8s-file driver vs tether-shim's `cri://` log;
#   - a plain log file: tether-shim's `file://` vs containerd-shim-runc-v2's `file://` (both copy a pipe into the
#     file: the container never holds the log);
#   - a FIFO read by `dd of=/dev/null`: tether-shim vs containerd-shim-runc-v2 (conmon has no FIFO output:
#     its only sinks are log drivers, k8s-file / journald / passthrough, so it is compared on the log file).
# The container cats a 1 MiB file (1 KiB lines, or 2-byte "a\n" lines) N times: a producer far faster than any
# supervisor. Wall time runs from the supervisor's launch to the container's exit with the log complete
# (conmon: conmon exited; shims: Wait answered, and for a FIFO the reader got every byte), so it includes the
# fixed create/start cost (~50 ms). Payload is verified on every run: F records counted in CRI logs, bytes in files
# and at the FIFO reader. A run that lost bytes is reported as such, not as a speed.
source "$BENCH_HERE/lib.sh"
work=$(mktemp -d /tmp/tether-bench-logs.XXXXXX)
H="$BIN/tether-harness"
runs=${LOGS_RUNS:-3}
big_mib=${LOGS_BIG_MIB:-256}     # 1 KiB lines
small_mib=${LOGS_SMALL_MIB:-16}  # 2-byte lines
runc_shim=/usr/bin/containerd-shim-runc-v2
log="$OUT/logs.log"
: > "$log"

cleanup() {
  set +e
  stop_harness_shims "$work"
  for p in $(cat "$work"/kill.pids 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  for id in $(runc --root "$work/runc" list -q 2>/dev/null); do runc --root "$work/runc" delete -f "$id" >/dev/null 2>&1; done
  unmount_below "$work"
  rm -rf "$work"
  true
}
trap cleanup EXIT

# The payloads, bind-mounted read-only at /data.
mkdir -p "$work/data"
line=$(head -c 1023 /dev/zero | tr '\0' 'x')
(set +o pipefail; yes "$line" | head -n 1024 > "$work/data/l1k"; yes a | head -c 1048576 > "$work/data/l2")

# bundle DIR FILE MIB: a container that writes FILE MIB times to stdout, /data mounted from the payloads.
bundle() {
  local dir=$1 file=$2 mib=$3
  mkbundle "$dir" /bin/sh -c "yes /data/$file | head -n $mib | xargs cat" >/dev/null 2>&1
  jq --arg src "$work/data" '.mounts += [{"destination": "/data", "type": "bind", "source": $src, "options": ["rbind", "ro"]}]' \
    "$dir/config.json" > "$dir/config.json.new" && mv "$dir/config.json.new" "$dir/config.json"
}
now() { date +%s%N; }
zombie_or_gone() { [ ! -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
cpu_seconds() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat" 2>/dev/null || echo "–"; }
f_records() { awk '$3 == "F" {n++} END {print n + 0}' "$@" 2>/dev/null; }

# conmon + runc, k8s-file: prints "SECONDS OK|LOST"
conmon_run() { # file mib lines
  local file=$1 mib=$2 lines=$3 dir id start end pid
  dir=$(mktemp -d "$work/cXXXXXX"); id=$(basename "$dir")
  bundle "$dir" "$file" "$mib"
  mkdir -p "$dir/exit" "$dir/socks" "$dir/persist"
  start=$(now)
  (exec 5>"$dir/sync.json"; _OCI_SYNCPIPE=5 exec conmon --api-version 1 -c "$id" -u "$id" -n "$id" -r "$(command -v runc)" \
    --runtime-arg "--root=$work/runc" -b "$dir" -p "$dir/pidfile" -P "$dir/conmon.pid" -l "k8s-file:$dir/log" \
    --exit-dir "$dir/exit" --socket-dir-path "$dir/socks" -0 "$dir/persist" --log-level error </dev/null >>"$log" 2>&1)
  until grep -q '}' "$dir/sync.json" 2>/dev/null; do sleep 0.002; done
  pid=$(cat "$dir/conmon.pid"); echo "$pid" >> "$work/kill.pids"
  runc --root "$work/runc" start "$id" >>"$log" 2>&1
  while ! zombie_or_gone "$pid"; do sleep 0.005; done
  end=$(now)
  local got; got=$(f_records "$dir/log")
  echo "$(( (end - start) / 1000 )) $([ "$got" = "$lines" ] && echo OK || echo "LOST:$got/$lines") – $(stat -c %s "$dir/log")"
  runc --root "$work/runc" delete -f "$id" >/dev/null 2>&1
  rm -rf "$dir"
}

# a containerd shim v2 (ours or runc's) driven by tether-harness; prints "MICROSECONDS OK|LOST SHIM_CPU LOG_BYTES"
shim_run() { # binary kind(cri|file|fifo) file mib lines
  local binary=$1 kind=$2 file=$3 mib=$4 lines=$5 dir id start end addr out err reader="" verdict
  dir=$(mktemp -d "$work/sXXXXXX"); id=$(basename "$dir")
  local bytes=$((mib * 1048576))
  bundle "$dir" "$file" "$mib"
  mkfifo "$dir/log"; exec 7<>"$dir/log"  # containerd's shim log FIFO, as containerd holds it
  case $kind in
    cri) out="cri://$dir/out.log?max-size=$((1 << 40))"; err=$out ;;
    file) out="file://$dir/out.log"; err="file://$dir/err.log" ;;
    fifo) mkfifo "$dir/out.fifo" "$dir/err.fifo"; out="$dir/out.fifo"; err="$dir/err.fifo"; exec 8<>"$err"
          timeout 600 dd if="$dir/out.fifo" of=/dev/null bs=1M iflag=fullblock count="$mib" status=none &
          reader=$! ;;
  esac
  start=$(now)
  addr=$("$H" spawn --bundle "$dir" --id "$id" --namespace benchlogs --binary "$binary" --address "$work/manager.sock")
  echo "$addr" > "$work/$id.addr"
  "$H" create --socket "$addr" --id "$id" --bundle "$dir" --stdout "$out" --stderr "$err" --timeout 60 >>"$log" 2>&1
  "$H" start --socket "$addr" --id "$id" --timeout 60 >>"$log" 2>&1
  "$H" wait --socket "$addr" --id "$id" --timeout 600 >>"$log" 2>&1
  if [ -n "$reader" ]; then
    # the reader gets every byte, or waits for ever on bytes the shim dropped: give it 5 s after the exit
    local deadline=$(( $(now) + 5000000000 ))
    while ! zombie_or_gone "$reader" && [ "$(now)" -lt "$deadline" ]; do sleep 0.002; done
  fi
  end=$(now)
  local pid; pid=$("$H" connect --socket "$addr" --id "$id" --timeout 10 | jq -r .shim_pid | head -1)
  local cpu; cpu=$(cpu_seconds "$pid")
  case $kind in
    cri) local got; got=$(f_records "$dir"/out.log*); [ "$got" = "$lines" ] && verdict=OK || verdict="LOST:$got/$lines"
         echo "$(( (end - start) / 1000 )) $verdict $cpu $(cat "$dir"/out.log* | wc -c)" ;;
    file) local size; size=$(stat -c %s "$dir/out.log"); [ "$size" = "$bytes" ] && verdict=OK || verdict="LOST:$size/$bytes"
          echo "$(( (end - start) / 1000 )) $verdict $cpu $size" ;;
    fifo) zombie_or_gone "$reader" || kill "$reader" 2>/dev/null
          wait "$reader" && verdict=OK || verdict=LOST
          echo "$(( (end - start) / 1000 )) $verdict $cpu –" ;;
  esac
  "$H" delete --socket "$addr" --id "$id" --timeout 30 >>"$log" 2>&1 || true
  "$H" shutdown --socket "$addr" --id "$id" --now --timeout 10 >>"$log" 2>&1 || true
  rm -f "$work/$id.addr"
  exec 7>&- 8>&-
  rm -rf "$dir"
}

# cell COMMAND...: runs it $runs times; prints "MB/s median (min–max) | cpu | bytes" or the loss.
cell() { # mib command...
  local mib=$1; shift
  local results=() lost="" i
  for i in $(seq "$runs"); do
    read -r us verdict cpu size < <("$@")
    echo "$* #$i: $us µs $verdict cpu=$cpu size=$size" >> "$log"
    [ "$verdict" = OK ] || lost=$verdict
    results+=("$(awk -v m="$mib" -v us="$us" 'BEGIN{printf "%.0f", m * 1.048576 / (us / 1e6)}')")
    last_cpu=$cpu; last_size=$size
  done
  local speeds; speeds=$(printf '%s\n' "${results[@]}" | sort -n)
  local speed="$(printf '%s\n' "${results[@]}" | median) ($(echo "$speeds" | head -1)–$(echo "$speeds" | tail -1))"
  [ -n "$lost" ] && speed="**lost bytes** ($lost)"
  echo "$speed | $last_cpu | $last_size"
}

tether=$BIN/tether-shim
echo "## Log throughput: container stdout → supervisor → log"
echo
echo "\`scripts/bench/logs.sh\` (\`BENCH_SECTIONS=logs make bench\`): the container runs \`yes /data/F | head -n N | xargs cat\`"
echo "on the busybox rootfs, F a 1 MiB file of 1 KiB lines or of 2-byte lines (\"a\\n\"); $big_mib MiB of 1 KiB lines, $small_mib MiB"
echo "of 2-byte lines. MB/s (10⁶ bytes) of payload from the supervisor's launch to the log complete, median of $runs runs"
echo "(min–max); the fixed create/start/exit cost (~50 ms) is included. Supervisor CPU (user+sys, s, last run) is read"
echo "from /proc before the shim is shut down (conmon has exited by then: –). Log bytes: on disk (CRI records add a"
echo "~36-byte header per line). FIFO: the reader is \`dd if=FIFO of=/dev/null bs=1M\`, and must receive every byte;"
echo "conmon has no FIFO output (its log drivers are k8s-file, journald and passthrough), so the FIFO rows compare"
echo "with containerd-shim-runc-v2, and conmon is compared on its k8s-file log (the CRI format, as \`cri://\`)."
echo
echo "| path | format | 1 KiB lines: MB/s | CPU s | log bytes | 2-byte lines: MB/s | CPU s | log bytes |"
echo "|---|---|---|---|---|---|---|---|"
row() { # label format kind...
  local label=$1 format=$2; shift 2
  local big small
  big=$(cell "$big_mib" "$@" l1k "$big_mib" $((big_mib * 1024)))
  small=$(cell "$small_mib" "$@" l2 "$small_mib" $((small_mib * 524288)))
  echo "| $label | $format | $big | $small |"
}
row "conmon $(conmon --version | awk 'NR==1{print $3}') + runc, k8s-file" "CRI" conmon_run
row "tether-shim + tether-runtime, \`cri://\`" "CRI" shim_run "$tether" cri
row "tether-shim, \`file://\`" "raw" shim_run "$tether" file
if [ -x "$runc_shim" ]; then
  row "containerd-shim-runc-v2 + runc, \`file://\`" "raw" shim_run "$runc_shim" file
  row "containerd-shim-runc-v2 + runc, FIFO → dd" "raw" shim_run "$runc_shim" fifo
fi
row "tether-shim, FIFO → dd" "raw" shim_run "$tether" fifo
echo
echo "Goal (issue 5): tether-shim's CRI log at least 2× conmon's k8s-file on both line sizes."
echo "Reference (anchor measurements, 500 MB): conmon k8s-file 506 MB/s with 1 KiB lines, 18 MB/s with 2-byte lines."
exit 0
