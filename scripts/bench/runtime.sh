#!/usr/bin/env bash
# Section: the OCI runtime. `tether-runtime run` against `runc run` of /bin/true, hyperfine -N, same bundle.
source "$BENCH_HERE/lib.sh"
work=$(mktemp -d /tmp/tether-bench-runtime.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkbundle "$work/bundle" /bin/true
runs=${RUNTIME_RUNS:-100}
cd "$work/bundle"
hyperfine -N --warmup 5 --runs "$runs" --export-json "$OUT/runtime-runc.json" \
  "runc --root $work/runc-root run --bundle $work/bundle bench-runc" >"$OUT/runtime.log" 2>&1
hyperfine -N --warmup 5 --runs "$runs" --export-json "$OUT/runtime-tether.json" \
  "$BIN/tether-runtime --root $work/tether-root run --bundle $work/bundle bench-tether" >>"$OUT/runtime.log" 2>&1
rss() { for _ in $(seq 15); do /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; done | median; }
runc_rss=$(rss runc --root "$work/runc-root" run --bundle "$work/bundle" rss-runc)
tether_rss=$(rss "$BIN/tether-runtime" --root "$work/tether-root" run --bundle "$work/bundle" rss-tether)
runc_ms=$(jq '.results[0].median*1000' "$OUT/runtime-runc.json")
tether_ms=$(jq '.results[0].median*1000' "$OUT/runtime-tether.json")
echo "## OCI runtime: run /bin/true (create + start + wait + delete)"
echo
echo "hyperfine -N, $runs runs each, busybox rootfs, \`runc spec\` config with terminal off."
echo
echo "| runtime | median ms | min | max | runs |"
echo "|---|---|---|---|---|"
hf_row "runc $(runc --version | head -1 | awk '{print $3}')" "$OUT/runtime-runc.json"
hf_row "tether-runtime" "$OUT/runtime-tether.json"
echo
echo "Ratio tether/runc: $(awk -v a="$tether_ms" -v b="$runc_ms" 'BEGIN{printf "%.2f", a/b}') (goal: at most 0.33)."
echo
echo "| runtime | peak RSS of \`run\` (kB, median of 15, /usr/bin/time %M) | binary bytes |"
echo "|---|---|---|"
echo "| runc | $runc_rss | $(stat -c %s "$(command -v runc)") |"
echo "| tether-runtime | $tether_rss | $(stat -c %s "$BIN/tether-runtime") |"
