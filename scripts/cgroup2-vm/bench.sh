# The payload of `make bench`'s cgroup2 section (scripts/bench/cgroup2.sh), run inside the cgroup v2-only VM:
# `tether-runtime run` against `runc run` of /bin/true on the same bundle, in one hyperfine invocation (as the
# runtime section), and prints the medians as "bench: NAME MS" lines.
. /vm-lib.sh
runs=${BENCH_RUNS:-30}
bundle /run/bench '["/bin/true"]' '{}' ""
mkdir -p /run/runc-root /run/tether-root
cd /run/bench
runc --root /run/runc-root run --bundle /run/bench probe-runc >/tmp/probe.log 2>&1 || echo "bench: runc fails: $(cat /tmp/probe.log)"
hyperfine -N --warmup 3 --runs "$runs" --export-csv /tmp/bench.csv \
  "runc --root /run/runc-root run --bundle /run/bench bench-runc" \
  "tether-runtime --root /run/tether-root run --bundle /run/bench bench-tether" >/tmp/hyperfine.log 2>&1 \
  || { echo "bench: hyperfine failed: $(tail -5 /tmp/hyperfine.log)"; exit 1; }
# command,mean,stddev,median,user,system,min,max (seconds)
awk -F, 'NR > 1 { split($1, words, " "); name = (words[1] == "runc") ? "runc" : "tether"; printf "bench: %s %.2f\n", name, $4 * 1000 }' /tmp/bench.csv
echo "bench: runs $runs"
