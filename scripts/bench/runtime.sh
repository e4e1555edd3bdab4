#!/usr/bin/env bash
# Section: the OCI runtime. `tether-runtime run` against `runc run` of /bin/true, hyperfine -N, same bundle.
source "$BENCH_HERE/lib.sh"
work=$(mktemp -d /tmp/tether-bench-runtime.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkbundle "$work/bundle" /bin/true
runs=${RUNTIME_RUNS:-100}
cd "$work/bundle"
# One hyperfine invocation for both, so the ratio compares runs made under the same machine load.
hyperfine -N --warmup 5 --runs "$runs" --export-json "$OUT/runtime.json" \
  "runc --root $work/runc-root run --bundle $work/bundle bench-runc" \
  "$BIN/tether-runtime --root $work/tether-root run --bundle $work/bundle bench-tether" >"$OUT/runtime.log" 2>&1
jq '{results: [.results[0]]}' "$OUT/runtime.json" >"$OUT/runtime-runc.json"
jq '{results: [.results[1]]}' "$OUT/runtime.json" >"$OUT/runtime-tether.json"
rss() { for _ in $(seq 15); do /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; done | median; }
# procs_write_ms CMD...: the slowest write(2) to a cgroup.procs file during one run, in ms (strace -T). The
# first migration into a cgroup waits for an RCU grace period (cgroup_threadgroup_rwsem), whoever does it.
procs_write_ms() {
  local trace; trace=$(mktemp)
  strace -f -qq -y -T -e trace=write -o "$trace" "$@" >/dev/null 2>&1 || true
  awk '
    / write\(/ { pid=$1; path=""; if (match($0, /<[^>]*cgroup\.procs>/)) path="procs"
                 if ($0 ~ /unfinished/) { pending[pid]=path; next } }
    /resumed>/ { pid=$1; path=pending[pid]; delete pending[pid] }
    path=="procs" && match($0, /<[0-9.]+>$/) { t=substr($0, RSTART+1, RLENGTH-2)*1000; if (t>max) max=t }
    END { printf "%.2f\n", max }' "$trace"
  rm -f "$trace"
}
migration() { for _ in $(seq 15); do procs_write_ms "$@"; done | median; }
runc_migration=$(migration runc --root "$work/runc-root" run --bundle "$work/bundle" mig-runc)
tether_migration=$(migration "$BIN/tether-runtime" --root "$work/tether-root" run --bundle "$work/bundle" mig-tether)
runc_rss=$(rss runc --root "$work/runc-root" run --bundle "$work/bundle" rss-runc)
tether_rss=$(rss "$BIN/tether-runtime" --root "$work/tether-root" run --bundle "$work/bundle" rss-tether)
runc_ms=$(jq '.results[0].median*1000' "$OUT/runtime-runc.json")
tether_ms=$(jq '.results[0].median*1000' "$OUT/runtime-tether.json")
echo "## OCI runtime: run /bin/true (create + start + wait + delete)"
echo
echo "hyperfine -N, $runs runs each in one invocation, busybox rootfs, \`runc spec\` config with terminal off."
echo
echo "| runtime | median ms | min | max | runs |"
echo "|---|---|---|---|---|"
hf_row "runc $(runc --version | head -1 | awk '{print $3}')" "$OUT/runtime-runc.json"
hf_row "tether-runtime" "$OUT/runtime-tether.json"
echo
echo "Ratio tether/runc: $(awk -v a="$tether_ms" -v b="$runc_ms" 'BEGIN{printf "%.2f", a/b}') (goal: at most 0.33)."
echo
echo "runc moves its init into the cgroups by writing cgroup.procs; the first such write waits for an RCU grace period"
echo "(the kernel write-locks cgroup_threadgroup_rwsem). tether-runtime makes no such write: clone3's CLONE_INTO_CGROUP"
echo "starts the init in its v2 cgroup and the init moves itself into each v1 hierarchy through \`tasks\` (moving the"
echo "calling thread takes no such lock). Slowest cgroup.procs write per run, median of 15 runs under strace -T:"
echo "runc ${runc_migration} ms, tether-runtime ${tether_migration} ms (0: none)."
echo
echo "| runtime | peak RSS of \`run\` (kB, median of 15, /usr/bin/time %M) | binary bytes |"
echo "|---|---|---|"
echo "| runc | $runc_rss | $(stat -c %s "$(command -v runc)") |"
echo "| tether-runtime | $tether_rss | $(stat -c %s "$BIN/tether-runtime") |"
