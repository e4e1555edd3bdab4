#!/usr/bin/env bash
# make bench: measures Tether against the real peers (runc, containerd-shim-runc-v2, conmon) side by side in
# one run, and writes Documentation/Benchmarks.md. Each section is a script in scripts/bench/ that prints a
# Markdown fragment; a section whose prerequisites are missing says so instead of inventing numbers.
# BENCH_SECTIONS="a b" runs only those; the report keeps the other sections from its previous version (each
# section starts with a `<!-- bench section NAME measured DATE -->` marker).
#   usage: scripts/bench.sh BIN_DIR ROOTFS
set -euo pipefail
BIN=${1:?usage: bench.sh BIN_DIR ROOTFS}
ROOTFS=${2:?usage: bench.sh BIN_DIR ROOTFS}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out=${BENCH_OUT:-$repo/bench-results}
report=${BENCH_REPORT:-$repo/Documentation/Benchmarks.md}
mkdir -p "$out"
export BIN ROOTFS OUT="$out" BENCH_HERE="$here/bench"
all_sections=(runtime ttrpc shim logs execs containerd cri daemon soak cgroup2 rootless)
sections=(${BENCH_SECTIONS:-${all_sections[*]}})
# previous_section NAME: NAME's part of the current report, from its marker to the next section's marker.
previous_section() { [ -f "$report" ] && awk -v name="$1" '/^<!-- bench section /{on = ($4 == name)} on' "$report" || true; }

{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` on $(date -u '+%Y-%m-%d %H:%M UTC'): $(nproc) cores, $(uname -r), $(. /etc/os-release; echo "$PRETTY_NAME")."
  echo "Every table compares Tether with the real peer measured in the same run on this machine."
  echo "The machine is shared and noisy (±25 % between runs): compare rows within one table, not across reports."
  [ -n "${BENCH_SECTIONS:-}" ] && echo "This run measured: ${sections[*]}; other sections are from earlier runs (dates in the source's section markers)."
  echo
  echo "| peer | version |"
  echo "|---|---|"
  echo "| runc | $(runc --version 2>/dev/null | head -1 | awk '{print $3}') |"
  echo "| containerd | $(containerd --version 2>/dev/null | awk '{print $3}') |"
  echo "| conmon | $(conmon --version 2>/dev/null | head -1 | awk '{print $3}') |"
  echo "| hyperfine | $(hyperfine --version 2>/dev/null | awk '{print $2}') |"
  echo
  for section in $(printf '%s\n' "${all_sections[@]}" "${sections[@]}" | awk '!seen[$0]++'); do
    if [[ " ${sections[*]} " != *" $section "* ]]; then
      previous_section "$section"
      continue
    fi
    echo "<!-- bench section $section measured $(date -u '+%Y-%m-%d %H:%M UTC') -->"
    script="$here/bench/$section.sh"
    if [ -x "$script" ]; then
      echo "running bench section $section" >&2
      "$script" || echo "_section $section failed (exit $?); see $out/$section.log_"
      echo
    else
      echo "_No \`$section\` section yet (scripts/bench/$section.sh)._"
      echo
    fi
  done
} > "$out/Benchmarks.md.new"
mv "$out/Benchmarks.md.new" "$report"
echo "bench: wrote $report" >&2
