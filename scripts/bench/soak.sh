#!/usr/bin/env bash
# Section: a soak of tetherd under churn and faults (issue 13). One private tetherd (its --root, --state and socket
# under a temp dir) goes through, interleaved step by step:
#   - SOAK_RUNS (1,000) `tetherctl run --rm ROOTFS /bin/true`, one per step;
#   - SOAK_EXECS (1,000) `tetherctl exec TARGET /bin/true` into one long-running container, spread over the steps;
#   - SOAK_SHIM_KILLS (50) `kill -9` of a running container's shim, every other one a `--restart always` container
#     (checked: running again under a new shim, last exit 137) and the others plain (checked: exited 137 with
#     "shim exited unexpectedly" in its record, its init gone, its rootfs unmounted, then a plain `rm` works);
#   - SOAK_RESTARTS (20) `kill -9` of tetherd and a restart (checked: the exec target is listed running again),
#     spread over the first half of the steps, so that the tetherd measured at the end has served the second half
#     alone; a restart that falls on a shim kill's step comes right after the kill, before tetherd has noticed it,
#     so that its successor finds the shim gone at reconnect.
# Before (after a warm-up that does each of these once, not counted) and after (all containers removed, then
# SOAK_SETTLE_SECONDS): tetherd's open fds and RSS, mounts under the temp dir, container directories under the
# cgroup parent (/sys/fs/cgroup/*/tether), zombies whose parent is tetherd or one of its shims, this tetherd's
# tether-shim processes, processes whose root is an overlay under the temp dir, and the files under --state and
# --root. Goal: all equal, tetherd's RSS within 5 %. The loop stops early past SOAK_BUDGET_SECONDS (the section
# must stay under 10 minutes on the 2-core bench machine) and says so.
source "$BENCH_HERE/lib.sh"
runs=${SOAK_RUNS:-1000}
execs=${SOAK_EXECS:-1000}
shim_kills=${SOAK_SHIM_KILLS:-50}
restarts=${SOAK_RESTARTS:-20}
budget=${SOAK_BUDGET_SECONDS:-420}
settle=${SOAK_SETTLE_SECONDS:-5}
warmup_steps=${SOAK_WARMUP_STEPS:-150}  # run --rm + exec pairs: 7 events each, so 150 fill the journal
work=$(mktemp -d /tmp/tether-bench-soak.XXXXXX)
log="$OUT/soak.log"
: > "$log"
socket="$work/tetherd.sock"
ids="$work/ids"          # every container id of this soak (run -d's output, tetherd's events, spare shims' ids)
events="$work/events"
: > "$ids"
# The executables run from hard links (a copy on another file system) under the temp dir: a rebuild of BIN_DIR
# during the soak does not change them, and a leftover check of a test run of BIN_DIR meanwhile
# (scripts/check-leftovers.sh counts processes running BIN_DIR's executables) does not count ours.
bin="$work/bin"
mkdir -p "$bin"
for exe in tetherd tether-shim tetherctl; do ln "$BIN/$exe" "$bin/$exe" 2>/dev/null || cp "$BIN/$exe" "$bin/$exe"; done

tetherctl_() { local command=$1; shift; timeout 30 "$bin/tetherctl" "$command" --socket "$socket" "$@"; }
tetherd_pid=""
follower_pid=""
progress() { echo "soak: $*" >&2; echo "soak: $*" >>"$log"; }
now_ns() { date +%s%N; }
failures="$work/failures"
: > "$failures"
fail() { echo "$*" >>"$failures"; echo "FAILED: $*" >>"$log"; }

tetherd_start() {
  "$bin/tetherd" --root "$work/root" --state "$work/state" --socket "$socket" </dev/null >>"$log" 2>&1 &
  tetherd_pid=$!
}
answers() { tetherctl_ ps -q >/dev/null 2>&1; }
# until_within SECONDS COMMAND...: polls COMMAND every 20 ms until it succeeds; fails after SECONDS.
until_within() {
  local end=$(( $(now_ns) + $1 * 1000000000 )); shift
  while [ "$(now_ns)" -lt "$end" ]; do "$@" && return 0; sleep 0.02; done
  return 1
}
# shims: pids of live tether-shim processes serving this tetherd (their -address argument).
shims() { pgrep -f -- "-address $socket( |$)" || true; }
# shim_of ID: the pid of container ID's live shim.
shim_of() { pgrep -f -- "-id $1 -address $socket( |$)" || true; }
only_spare_left() { [ "$(shims | wc -l)" -le 1 ]; }
# events follower: `tetherctl events` into $events, for the ids of the `run --rm` containers. Its output is
# block-buffered and lost when it is killed, so it runs in rounds of 2 s (`--until 2`, each flushed at its exit, the
# next started at once), which also carry it over tetherd's restarts; follower_stop ends it after its round.
follower_start() {
  rm -f "$work/follower.stop"
  (while [ ! -e "$work/follower.stop" ]; do
     "$bin/tetherctl" events --socket "$socket" --until 2 >>"$events" 2>/dev/null || sleep 0.05
   done) &
  follower_pid=$!
}
follower_stop() {
  [ -n "$follower_pid" ] || return 0
  touch "$work/follower.stop"
  wait "$follower_pid" 2>/dev/null || true
  follower_pid=""
}
remove_all() {
  tetherctl_ ps -aq 2>/dev/null | xargs -r timeout 60 "$bin/tetherctl" rm --socket "$socket" -f >>"$log" 2>&1 || true
  until_within 20 only_spare_left || true
}

# container_processes: "pid cmdline" of every process whose root is an overlay whose upper layer is under $work.
container_processes() {
  local file pid
  for file in $(grep -lsE "^[0-9]+ [0-9]+ [0-9:]+ / / .* overlay .*upperdir=$work/" /proc/[0-9]*/mountinfo 2>/dev/null || true); do
    pid=${file#/proc/}; pid=${pid%/mountinfo}
    echo "$pid $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | cut -c1-120)"
  done
}
# zombies PID...: "pid ppid comm" of every zombie (state Z) whose parent is one of PIDs.
zombies() {
  local parents=" $* " file stat rest state ppid
  for file in /proc/[0-9]*/stat; do
    { read -r stat <"$file"; } 2>/dev/null || continue
    rest=${stat##*) }; state=${rest%% *}; rest=${rest#* }; ppid=${rest%% *}
    [ "$state" = Z ] || continue
    [[ "$parents" == *" $ppid "* ]] && echo "${stat%% *} $ppid $(sed 's/^[^(]*(//; s/) [^)]*$//' <<<"$stat")"
  done
  true
}
# snapshot NAME: every measured quantity into $work/NAME/ (one value per file, lists beside).
snapshot() {
  local name=$1 dir shim_pids
  dir="$work/$name"
  mkdir -p "$dir"
  read -r rss pss uss anon < <(mem_of "$tetherd_pid")
  echo "$rss" >"$dir/rss"
  echo "$rss / $pss / $uss / $anon" >"$dir/memory"
  ls "/proc/$tetherd_pid/fd" | wc -l >"$dir/fds"
  ls -l "/proc/$tetherd_pid/fd" | awk 'NR > 1 {print $NF}' | sed 's/[0-9][0-9]*/N/g' | sort | uniq -c >"$dir/fds.list"
  awk -v w="$work/" 'index($5, w) == 1 {print $5, $9, $10}' /proc/self/mountinfo | sort >"$dir/mounts.list"
  for path in /sys/fs/cgroup/*/tether/*/; do [ -d "$path" ] && echo "$path"; done | sort >"$dir/cgroups.list"
  awk -F/ '{print $(NF-1)}' "$dir/cgroups.list" | sort -u >"$dir/cgroup-names.list"
  grep -Fxf "$ids" "$dir/cgroup-names.list" >"$dir/our-cgroups.list" || true
  shim_pids=$(shims)
  zombies "$tetherd_pid" $shim_pids >"$dir/zombies.list"
  for pid in $shim_pids; do echo "$pid $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | cut -c1-200)"; done >"$dir/shims.list"
  container_processes >"$dir/processes.list"
  find "$work/state" "$work/root" -xdev | sort >"$dir/files.list"
  for list in mounts cgroups cgroup-names our-cgroups zombies shims processes files; do
    grep -c . "$dir/$list.list" >"$dir/$list" || true
  done
}

cleanup() {
  set +e
  follower_stop
  if [ -n "$tetherd_pid" ] && kill -0 "$tetherd_pid" 2>/dev/null; then
    remove_all
    kill -TERM "$tetherd_pid" 2>/dev/null  # its spare shim exits with it
    for _ in $(seq 100); do kill -0 "$tetherd_pid" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$tetherd_pid" 2>/dev/null; wait "$tetherd_pid" 2>/dev/null
  fi
  # whatever is still ours: shims by address, container processes by their root, cgroups by id, mounts by path
  for pid in $(shims); do kill -9 "$pid" 2>/dev/null; done
  for pid in $(container_processes | awk '{print $1}'); do kill -9 "$pid" 2>/dev/null; done
  sleep 0.2
  if [ -s "$ids" ]; then
    for id in $(sort -u "$ids"); do rmdir /sys/fs/cgroup/*/tether/"$id" 2>/dev/null; done
  fi
  unmount_below "$work"
  rm -rf --one-file-system "$work"
  true
}
trap cleanup EXIT

# --- one shim kill -----------------------------------------------------------------------------------------------
# kill_begin KIND (plain|always): starts a container, kills its shim with SIGKILL; sets kill_* for kill_verify.
kill_begin() {
  local policy=()
  kill_kind=$1 kill_id="" kill_shim="" kill_init=""
  [ "$kill_kind" = always ] && policy=(--restart always)
  if ! kill_id=$(tetherctl_ run -d "${policy[@]}" "$ROOTFS" /bin/sleep 100000 2>>"$log"); then
    fail "shim kill ($kill_kind): run -d failed"; kill_id=""; return 1
  fi
  echo "$kill_id" >>"$ids"
  kill_shim=$(shim_of "$kill_id")
  kill_init=$(tetherctl_ inspect -f '{{.State.Pid}}' "$kill_id" 2>>"$log" || true)
  if [ -z "$kill_shim" ] || [ -z "$kill_init" ] || [ "$kill_init" = 0 ]; then
    fail "shim kill ($kill_kind) $kill_id: no shim ($kill_shim) or init ($kill_init) found"; return 1
  fi
  kill_at=$(now_ns)
  kill -9 "$kill_shim" 2>/dev/null || true
}
# init_gone: the killed container's init (a `sleep 100000`) is no longer running.
init_gone() { [ "$(tr '\0' ' ' 2>/dev/null <"/proc/$kill_init/cmdline")" != "/bin/sleep 100000 " ]; }
kill_settled() {
  local doc status code restarts shim
  doc=$(tetherctl_ inspect "$kill_id" 2>/dev/null) || return 1
  read -r status code restarts < <(jq -r '.[0] | "\(.State.Status) \(.State.ExitCode) \(.RestartCount)"' <<<"$doc")
  [ "$code" = 137 ] || return 1
  if [ "$kill_kind" = plain ]; then
    [ "$status" = exited ]
  else
    shim=$(shim_of "$kill_id")
    [ "$status" = running ] && [ "$restarts" -ge 1 ] && [ -n "$shim" ] && [ "$shim" != "$kill_shim" ]
  fi
}
# kill_verify TIMED: waits (10 s at most) for tetherd to have noticed and cleaned up, checks, removes the container.
kill_verify() {
  local timed=$1 problems=""
  [ -n "$kill_id" ] || return 0
  if until_within 10 kill_settled; then
    [ "$timed" = yes ] && echo "$(ms "$kill_at" "$(now_ns)")" >>"$work/kill-$kill_kind.ms"
  else
    problems+=" not $([ "$kill_kind" = plain ] && echo "exited 137" || echo "running again under a new shim") within 10 s"
    problems+=" (status, exit code, restarts: $(tetherctl_ inspect "$kill_id" 2>/dev/null | jq -r '.[0] | "\(.State.Status) \(.State.ExitCode) \(.RestartCount)"' || echo "?"));"
  fi
  until_within 2 init_gone || problems+=" its init $kill_init still runs;"
  if [ "$kill_kind" = plain ]; then
    local error
    error=$(jq -r .error "$work/root/containers/$kill_id/record.json" 2>/dev/null || true)
    [ "$error" = "shim exited unexpectedly" ] || problems+=" record's error is '$error';"
    ! grep -q " $work/state/bundles/$kill_id/rootfs " /proc/self/mountinfo || problems+=" its rootfs is still mounted;"
    tetherctl_ rm "$kill_id" >>"$log" 2>&1 || problems+=" rm failed;"
  else
    tetherctl_ rm -f "$kill_id" >>"$log" 2>&1 || problems+=" rm -f failed;"
  fi
  [ -z "$problems" ] || fail "shim kill ($kill_kind) $kill_id:$problems"
  kill_id=""
}

# --- one tetherd restart -----------------------------------------------------------------------------------------
target_running() { tetherctl_ ps -q 2>/dev/null | grep -q "^${target:0:12}"; }
restart_tetherd() {
  local rss start
  read -r rss _ < <(mem_of "$tetherd_pid") || rss="?"
  echo "$rss $(ls "/proc/$tetherd_pid/fd" | wc -l)" >>"$work/killed-tetherds"
  kill -9 "$tetherd_pid" 2>/dev/null || fail "tetherd $tetherd_pid had died before its kill"
  wait "$tetherd_pid" 2>/dev/null || true
  start=$(now_ns)
  tetherd_start
  if until_within 30 answers && until_within 30 target_running; then
    ms "$start" "$(now_ns)" >>"$work/restart.ms"; echo >>"$work/restart.ms"
  else
    fail "tetherd restart: the exec target was not listed running within 30 s"
  fi
  sleep 0.1  # the events follower reconnects
}

# --- warm-up: every path once, so that both measured tetherds have run each: a shim kill of each kind followed at
# once by a tetherd restart (the successor finds the shim gone), then with the third tetherd a run, an exec and a
# shim kill of each kind that it notices itself; its state then is "before" ------------------------------------------
tetherd_start
until_within 30 answers || { echo "_tetherd did not answer; see $OUT/soak.log_"; exit 1; }
follower_start
progress "warm-up"
target=$(tetherctl_ run -d "$ROOTFS" /bin/sleep 100000 2>>"$log")
echo "$target" >>"$ids"
for kind in plain always; do
  if kill_begin "$kind"; then restart_tetherd; kill_verify no; else restart_tetherd; fi
done
for kind in plain always; do
  tetherctl_ run --rm "$ROOTFS" /bin/true >>"$log" 2>&1 || true
  tetherctl_ exec "$target" /bin/true >>"$log" 2>&1 || true
  kill_begin "$kind" && kill_verify no
done
# and tetherd's bounded memory filled: its event journal keeps the last 1024 events
for _ in $(seq "$warmup_steps"); do
  tetherctl_ run --rm "$ROOTFS" /bin/true >>"$log" 2>&1 || true
  tetherctl_ exec "$target" /bin/true >>"$log" 2>&1 || true
done
remove_all
follower_stop
sed 's/^/warm-up: /' "$failures" >"$work/warmup-failures"; : > "$failures"; rm -f "$work"/*.ms "$work/killed-tetherds"
sleep "$settle"
snapshot before
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the soak ----------------------------------------------------------------------------------------------------
follower_start
target=$(tetherctl_ run -d "$ROOTFS" /bin/sleep 100000 2>>"$log")
echo "$target" >>"$ids"
soak_start=$(now_ns)
done_runs=0 done_execs=0 done_kills=0 done_restarts=0 failed_runs=0 failed_execs=0 steps=0 stopped_early=""
half=$(( runs / 2 ))
# due K TOTAL SPAN: whether step K (1-based) is one of the TOTAL evenly spread over steps 1..SPAN.
due() { [ "$1" -le "$3" ] && [ $(( $1 * $2 / $3 )) -gt $(( ($1 - 1) * $2 / $3 )) ]; }
for k in $(seq "$runs"); do
  if [ $(( ($(now_ns) - soak_start) / 1000000000 )) -ge "$budget" ]; then stopped_early=$k; break; fi
  steps=$k
  start=$(now_ns)
  if tetherctl_ run --rm "$ROOTFS" /bin/true >>"$log" 2>&1; then
    ms "$start" "$(now_ns)" >>"$work/run.ms"; echo >>"$work/run.ms"
  else
    failed_runs=$((failed_runs + 1)); fail "run --rm #$k failed"
  fi
  done_runs=$((done_runs + 1))
  for spare in "$work/state/spare/"*; do echo "${spare##*/}"; done >>"$ids"  # the next run's id
  if due "$k" "$execs" "$runs"; then
    start=$(now_ns)
    if tetherctl_ exec "$target" /bin/true >>"$log" 2>&1; then
      ms "$start" "$(now_ns)" >>"$work/exec.ms"; echo >>"$work/exec.ms"
    else
      failed_execs=$((failed_execs + 1)); fail "exec #$k failed"
    fi
    done_execs=$((done_execs + 1))
  fi
  kill_now="" restart_now=""
  due "$k" "$shim_kills" "$runs" && kill_now=1
  due "$k" "$restarts" "$half" && restart_now=1
  if [ -n "$kill_now" ]; then
    kind=$([ $((done_kills % 2)) = 0 ] && echo plain || echo always)
    kill_begin "$kind" || true
    done_kills=$((done_kills + 1))
    if [ -n "$restart_now" ]; then
      restart_tetherd; done_restarts=$((done_restarts + 1))
      echo "$kill_id" >>"$work/kills-across-restart"
      kill_verify no
    else
      kill_verify yes
    fi
  elif [ -n "$restart_now" ]; then
    restart_tetherd; done_restarts=$((done_restarts + 1))
  fi
  if [ $((k % 100)) = 0 ]; then
    { read -r rss _ _ anon < <(mem_of "$tetherd_pid"); } 2>/dev/null || { rss="?"; anon="?"; }
    echo "$k $tetherd_pid $rss $anon $(ls "/proc/$tetherd_pid/fd" 2>/dev/null | wc -l)" >>"$work/series"
    progress "step $k/$runs: $done_runs runs, $done_execs execs, $done_kills shim kills, $done_restarts tetherd restarts, $(grep -c . "$failures" || true) failures, $(( ($(now_ns) - soak_start) / 1000000000 )) s"
  fi
done
soak_s=$(( ($(now_ns) - soak_start) / 1000000000 ))
[ -n "$stopped_early" ] && progress "budget of $budget s spent: stopped before step $stopped_early"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
progress "removing all containers, then settling for $settle s"
remove_all
follower_stop
awk '$2 == "container" {print $4}' "$events" >>"$ids" 2>/dev/null || true
# the ids of this soak are known only now: before's count of them too
grep -Fxf "$ids" "$work/before/cgroup-names.list" >"$work/before/our-cgroups.list" || true
grep -c . "$work/before/our-cgroups.list" >"$work/before/our-cgroups" || true
known_ids=$(sort -u "$ids" | grep -c . || true)
progress "$known_ids container ids of this soak known (run -d, events, spares)"
sleep "$settle"
snapshot after
# and at last tetherd's own stop: SIGTERM; its spare shim goes with it
kill -TERM "$tetherd_pid" 2>/dev/null || true
for _ in $(seq 100); do kill -0 "$tetherd_pid" 2>/dev/null || break; sleep 0.05; done
wait "$tetherd_pid" 2>/dev/null || true
tetherd_pid=""
sleep 0.5
shims_after_stop=$(shims | wc -l)
progress "measured; writing the table"

# --- the report --------------------------------------------------------------------------------------------------
ms_summary() {  # FILE: "median / max" of the ms in FILE, or "–"
  [ -s "$1" ] || { echo "–"; return; }
  echo "$(grep . "$1" | median | xargs printf "%.2f") / $(grep . "$1" | sort -n | tail -1)"
}
value() { cat "$work/$1/$2"; }
equal_row() {  # LABEL QUANTITY
  local before after
  before=$(value before "$2"); after=$(value after "$2")
  echo "| $1 | $before | $after | $([ "$before" = "$after" ] && echo equal || echo "**not equal**") |"
}
rss_before=$(value before rss); rss_after=$(value after rss)
rss_ratio=$(awk -v a="$rss_after" -v b="$rss_before" 'BEGIN{printf "%.3f", a/b}')
rss_ok=$(awk -v r="$rss_ratio" 'BEGIN{print (r >= 0.95 && r <= 1.05) ? "yes" : "no"}')
failed=$(grep -c . "$failures" || true)
warmup_failed=$(grep -c . "$work/warmup-failures" || true)
all_equal=yes
for quantity in fds mounts cgroup-names our-cgroups zombies shims processes files; do
  [ "$(value before "$quantity")" = "$(value after "$quantity")" ] || all_equal=no
done
kills_across=$(grep -c . "$work/kills-across-restart" 2>/dev/null || true)
killed_rss=$(awk '{print $1}' "$work/killed-tetherds" 2>/dev/null | sort -n | tail -1)
killed_fds=$(awk '{print $2}' "$work/killed-tetherds" 2>/dev/null | sort -n | tail -1)
# prints the lines of one list that differ before/after ("+" new, "-" gone), the temp dir shown as $TMP
list_diff() {
  diff <(sed "s#$work#\$TMP#g" "$work/before/$1.list") <(sed "s#$work#\$TMP#g" "$work/after/$1.list") \
    | awk '/^[<>]/{sub(/^</, "-"); sub(/^>/, "+"); print}' | head -20 || true
}

echo "## Soak: tetherd under churn and faults"
echo
echo "One private tetherd (its \`--root\`, \`--state\` and socket under a temp dir), busybox rootfs, $steps steps in $soak_s s"
echo "(load average $load_start at the start, $load_end at the end). Each step is one \`run --rm ROOTFS /bin/true\`;"
echo "the execs, shim kills and tetherd restarts are spread evenly over the steps, the restarts over the first half only,"
echo "so the tetherd measured at the end served the second half alone. A shim kill starts a container and \`kill -9\`s"
echo "its shim: plain ones must be recorded as exited 137 with \"shim exited unexpectedly\" (their init gone, rootfs"
echo "unmounted, then a plain \`rm\` works), \`--restart always\` ones must run again under a new shim. $kills_across of the"
echo "restarts come right after a shim kill, before tetherd noticed it, so its successor finds the shim gone."
[ -n "$stopped_early" ] && echo "**The ${budget} s budget ran out before step $stopped_early: fewer than asked were done.**"
echo
echo "| soak | done | failed | ms, median / max |"
echo "|---|---|---|---|"
echo "| \`run --rm ROOTFS /bin/true\` | $done_runs | $failed_runs | $(ms_summary "$work/run.ms") |"
echo "| \`exec TARGET /bin/true\` (one long-running container) | $done_execs | $failed_execs | $(ms_summary "$work/exec.ms") |"
echo "| shim \`kill -9\`, plain: kill → \`inspect\` says exited (137) | $(( (done_kills + 1) / 2 )) | $(grep -c '^shim kill (plain)' "$failures" || true) | $(ms_summary "$work/kill-plain.ms") |"
echo "| shim \`kill -9\`, \`--restart always\`: kill → running again, new shim | $(( done_kills / 2 )) | $(grep -c '^shim kill (always)' "$failures" || true) | $(ms_summary "$work/kill-always.ms") |"
echo "| tetherd \`kill -9\` + start: start → exec target listed running | $done_restarts | $(grep -c '^tetherd restart' "$failures" || true) | $(ms_summary "$work/restart.ms") |"
echo
echo "(The kill rows' times leave out the kills followed by a tetherd restart.) Before: after a warm-up (a shim kill"
echo "of each kind, each followed at once by a tetherd restart, then a run, an exec and a shim kill of each kind, then"
echo "$warmup_steps \`run --rm\` + \`exec\` pairs, which fill tetherd's event journal: it keeps the last 1024 events) with no"
echo "container left, then $settle s to settle; after: every container removed, then $settle s to settle."
echo "Both with tetherd's idle spare shim. The cgroup row counts container directories (by name, over all controllers)"
echo "under \`/sys/fs/cgroup/*/tether\`, which every tetherd on the host shares; the next row counts those of this soak's"
echo "containers."
echo
echo "| quantity | before | after | verdict |"
echo "|---|---|---|---|"
equal_row "tetherd open fds" fds
echo "| tetherd RSS (kB; RSS / PSS / USS / Anon) | $(value before memory) | $(value after memory) | after / before $rss_ratio: $([ "$rss_ok" = yes ] && echo "within 5 %" || echo "**not within 5 %**") |"
equal_row "mounts under the temp dir" mounts
equal_row "cgroup container dirs under \`/sys/fs/cgroup/*/tether\` (all tetherds)" cgroup-names
equal_row "of them this soak's containers ($known_ids ids)" our-cgroups
equal_row "zombies whose parent is tetherd or one of its shims" zombies
equal_row "this tetherd's \`tether-shim\` processes" shims
equal_row "processes whose root is an overlay under the temp dir" processes
equal_row "files and directories under \`--state\` and \`--root\`" files
echo
anon_before=$(awk '{print $7}' "$work/before/memory"); anon_after=$(awk '{print $7}' "$work/after/memory")
echo "tetherd's RSS is mostly pages of its static binary (see the daemon section), so it moves with the code paths a"
echo "process has run; its anonymous memory (heap, stacks) went from $anon_before to $anon_after kB."
if [ -s "$work/series" ]; then
  echo
  echo "tetherd every 100 steps (a new process after each restart, the last at step $((half))); kB and fds, with the"
  echo "soak's containers still there (the exec target and no other):"
  echo
  echo "| after step | $(awk '{printf "%s | ", $1}' "$work/series")"
  echo "|---|$(awk '{printf "---|"}' "$work/series")"
  echo "| RSS | $(awk '{printf "%s | ", $3}' "$work/series")"
  echo "| Anon | $(awk '{printf "%s | ", $4}' "$work/series")"
  echo "| open fds | $(awk '{printf "%s | ", $5}' "$work/series")"
  echo
fi
echo "The $done_restarts tetherds killed: RSS at most ${killed_rss:-–} kB, at most ${killed_fds:-–} open fds. After the final"
echo "SIGTERM of tetherd: $shims_after_stop of its \`tether-shim\` processes left."
echo
for quantity in fds mounts cgroup-names our-cgroups zombies shims processes files; do
  [ "$(value before "$quantity")" = "$(value after "$quantity")" ] && continue
  echo "Not equal, $quantity (\`+\` new after, \`-\` gone; \$TMP the temp dir):"
  echo
  echo '```'
  list_diff "$quantity"
  echo '```'
  echo
done
if [ "$failed" -gt 0 ] || [ "$warmup_failed" -gt 0 ]; then
  echo "Failed checks ($failed in the soak, $warmup_failed in the warm-up; all in $OUT/soak.log):"
  echo
  echo '```'
  cat "$work/warmup-failures" "$failures" | sed "s#$work#\$TMP#g" | head -20
  echo '```'
  echo
fi
goal=$([ "$all_equal" = yes ] && [ "$rss_ok" = yes ] && [ "$failed" = 0 ] && [ "$warmup_failed" = 0 ] && [ -z "$stopped_early" ] && echo met || echo missed)
echo "Goal: every quantity equal before and after, tetherd's RSS within 5 %, every check passed: $goal."
exit 0
