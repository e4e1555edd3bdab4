#!/usr/bin/env bash
# make bench: measures Tether against the real peers (runc, containerd-shim-runc-v2, conmon) side by side in
# one run, and writes Documentation/Benchmarks.md. Each section is a script in scripts/bench/ that prints a
# Markdown fragment; a section whose prerequisites are missing says so instead of inventing numbers.
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
sections=(${BENCH_SECTIONS:-runtime ttrpc shim containerd daemon})

{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` on $(date -u '+%Y-%m-%d %H:%M UTC'): $(nproc) cores, $(uname -r), $(. /etc/os-release; echo "$PRETTY_NAME")."
  echo "Every table compares Tether with the real peer measured in the same run on this machine."
  echo "The machine is shared and noisy (±25 % between runs): compare rows within one table, not across reports."
  echo
  echo "| peer | version |"
  echo "|---|---|"
  echo "| runc | $(runc --version 2>/dev/null | head -1 | awk '{print $3}') |"
  echo "| containerd | $(containerd --version 2>/dev/null | awk '{print $3}') |"
  echo "| conmon | $(conmon --version 2>/dev/null | head -1 | awk '{print $3}') |"
  echo "| hyperfine | $(hyperfine --version 2>/dev/null | awk '{print $2}') |"
  echo
  for section in "${sections[@]}"; do
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
