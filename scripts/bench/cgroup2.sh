#!/usr/bin/env bash
# Section: the OCI runtime on a cgroup v2-only kernel. `tether-runtime run` against `runc run` of /bin/true inside
# the VM of `make test-cgroup2` (scripts/cgroup2-vm/: Debian's 6.1 kernel under qemu TCG, only cgroup2 mounted),
# hyperfine -N in the VM. Emulation makes the absolute times meaningless: the ratio only.
source "$BENCH_HERE/lib.sh"
source "$BENCH_HERE/../cgroup2-vm/lib.sh"
echo "## OCI runtime on cgroup v2, TCG: run /bin/true"
echo
reason=$(vm_skip_reason)
if [ -n "$reason" ]; then echo "_Not measured: $reason._"; exit 0; fi
work=$(mktemp -d /tmp/tether-bench-cgroup2.XXXXXX)
trap 'rm -rf "$work"' EXIT
vm_build "$work" "$BIN" "$ROOTFS" "$BENCH_HERE/../cgroup2-vm/bench.sh" "$(command -v runc)" "$(command -v hyperfine)" >"$OUT/cgroup2.log" 2>&1
status=0
vm_boot "$work" "${CGROUP2_BENCH_TIMEOUT:-540}" || status=$?
cp "$work/report.log" "$OUT/cgroup2-report.log"
cp "$work/console.log" "$OUT/cgroup2-console.log"
runc_ms=$(awk '$1 == "bench:" && $2 == "runc" {print $3}' "$work/report.log")
tether_ms=$(awk '$1 == "bench:" && $2 == "tether" {print $3}' "$work/report.log")
runs=$(awk '$1 == "bench:" && $2 == "runs" {print $3}' "$work/report.log")
if [ "$status" != 0 ] || [ -z "$runc_ms" ] || [ -z "$tether_ms" ]; then
  echo "_Not measured: the VM did not report (status $status); see $OUT/cgroup2-report.log._"
  exit 1
fi
echo "In a VM with only cgroup2 mounted (\`+cpuset +cpu +io +memory +pids\` delegated): Debian's $(basename "$(vm_kernel)" | sed 's/vmlinuz-//')"
echo "kernel under qemu TCG (software emulation, 2 vCPUs), hyperfine -N, $runs runs each in one invocation, runc $(runc --version | head -1 | awk '{print $3}')"
echo "(Debian's, with its libraries), the same busybox bundle as the runtime section. Emulation slows CPU-bound work"
echo "unevenly (runc's Go start-up and its per-run copy of its own binary more than our start), so this ratio is not"
echo "the host's: compare it only with earlier rows of this table."
echo
echo "| cgroup v2, TCG | ratio tether-runtime / runc |"
echo "|---|---|"
echo "| \`run /bin/true\` | $(awk -v a="$tether_ms" -v b="$runc_ms" 'BEGIN{printf "%.2f", a/b}') |"
