#!/usr/bin/env bash
# One multi-call `tether` (tools chosen by argv[0]) against the separate binaries, measured in the same run:
# installed bytes (stripped copies), runtime start-up (`--version`, `state`, `run /bin/true`, hyperfine -N, both
# shapes in one hyperfine invocation each so they share the machine's load) and the PSS of idle shims.
#   scripts/measure-multicall.sh SEPARATE_BIN_DIR TETHER_BINARY ROOTFS
# Prints Markdown. Used once to choose what `make install` installs (issue 18); not a `make bench` section. The
# `tether` target was removed again after it lost the idle-shim row: to measure again, revert the commit "Separate
# binaries stay" and `make release`.
set -euo pipefail
SEP=$(cd "$1" && pwd); MULTI=$(realpath "$2"); ROOTFS=$3
export BIN=$SEP ROOTFS BENCH_HERE=$(cd "$(dirname "$0")/bench" && pwd)
work=$(mktemp -d /tmp/tether-multicall.XXXXXX)
export OUT=$work
source "$BENCH_HERE/lib.sh"
runs=${RUNS:-100}
shims=${SHIMS:-5}
cleanup() {
  set +e
  stop_harness_shims "$work" .sock.addr
  for root in "$work"/root-*; do
    for id in $("$SEP/tether-runtime" --root "$root" list -q 2>/dev/null); do "$SEP/tether-runtime" --root "$root" delete -f "$id" >/dev/null 2>&1; done
  done
  unmount_below "$work"
  rm -rf "$work"
  true
}
trap cleanup EXIT

# The multi-call shape as it would be installed: the binary and its links.
mkdir -p "$work/multi" "$work/stripped-sep" "$work/stripped-multi"
cp "$MULTI" "$work/multi/tether"
for tool in tether-runtime tether-shim containerd-shim-tether-v2 tetherd tetherctl; do ln -s tether "$work/multi/$tool"; done

echo "## Multi-call \`tether\` against separate binaries"
echo
echo "### Installed bytes (release, \`strip\`ped copies)"
echo
echo "| shape | files | bytes |"
echo "|---|---|---|"
total=0; list=""
for tool in tether-runtime tether-shim tetherd tetherctl; do
  cp "$SEP/$tool" "$work/stripped-sep/$tool"; strip "$work/stripped-sep/$tool"
  size=$(stat -c %s "$work/stripped-sep/$tool"); total=$((total + size)); list="$list $tool=$size"
done
echo "| separate |$list | $total |"
cp "$MULTI" "$work/stripped-multi/tether"; strip "$work/stripped-multi/tether"
echo "| multi-call | tether=$(stat -c %s "$work/stripped-multi/tether") (+ 5 links) | $(stat -c %s "$work/stripped-multi/tether") |"
echo

mkbundle "$work/bundle" /bin/true >/dev/null 2>&1
mkbundle "$work/sleeper" /bin/sleep 100000 >/dev/null 2>&1
"$SEP/tether-runtime" --root "$work/root-state" create --bundle "$work/sleeper" probe >/dev/null
hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/version.json" \
  "$SEP/tether-runtime --version" "$work/multi/tether-runtime --version" >"$work/hf.log" 2>&1
hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/state.json" \
  "$SEP/tether-runtime --root $work/root-state state probe" "$work/multi/tether-runtime --root $work/root-state state probe" >>"$work/hf.log" 2>&1
hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/run.json" \
  "$SEP/tether-runtime --root $work/root-sep run --bundle $work/bundle true-sep" \
  "$work/multi/tether-runtime --root $work/root-multi run --bundle $work/bundle true-multi" >>"$work/hf.log" 2>&1
"$SEP/tether-runtime" --root "$work/root-state" delete -f probe

echo "### tether-runtime start-up (ms, hyperfine -N, $runs runs; separate and multi-call in one invocation)"
echo
echo "| command | shape | median | min | max | runs |"
echo "|---|---|---|---|---|---|"
for name in version state run; do
  jq -r --arg name "$name" '.results | to_entries[] | "| \($name) | \(if .key == 0 then "separate" else "multi-call" end) | \(.value.median*1000*100|floor/100) | \(.value.min*1000*100|floor/100) | \(.value.max*1000*100|floor/100) | \(.value.times|length) |"' "$work/$name.json"
done
echo

# Idle shims: each shape starts $shims shims, one `sleep` container each (interleaved so both see the same load).
start_shim() { # binary namespace id
  local bundle="$work/$3"
  mkbundle "$bundle" /bin/sleep 100000 >/dev/null 2>&1
  local addr; addr=$("$SEP/tether-harness" spawn --bundle "$bundle" --id "$3" --namespace "$2" --binary "$1")
  "$SEP/tether-harness" create --socket "$addr" --id "$3" --bundle "$bundle" --timeout 30 >/dev/null
  "$SEP/tether-harness" start --socket "$addr" --id "$3" --timeout 30 >/dev/null
  echo "$addr" > "$work/$3.sock.addr"
}
for i in $(seq "$shims"); do
  start_shim "$SEP/tether-shim" cli-sep "s$i"
  start_shim "$work/multi/containerd-shim-tether-v2" cli-multi "m$i"
done
sleep 1
echo "### Idle shims ($shims per shape, one \`sleep\` container each; kB from smaps_rollup)"
echo
echo "| shape | mean PSS | mean RSS | mean Anon |"
echo "|---|---|---|---|"
for shape in sep multi; do
  pss=0; rss=0; anon=0; n=0
  for pid in $(pgrep -f "tether-shim -namespace cli-$shape "); do
    read -r r p _ a < <(mem_of "$pid"); pss=$((pss + p)); rss=$((rss + r)); anon=$((anon + a)); n=$((n + 1))
  done
  [ "$n" -gt 0 ] || { echo "| $shape | no shim found | | |"; continue; }
  echo "| $([ $shape = sep ] && echo separate || echo multi-call) ($n) | $((pss / n)) | $((rss / n)) | $((anon / n)) |"
done
