#!/usr/bin/env bash
# Section: ttrpc round trips (Task.Connect) over a unix socket: our single-threaded server and blocking client.
source "$BENCH_HERE/lib.sh"
[ -x "$BIN/ttrpc-bench" ] || { echo "_ttrpc-bench not built_"; exit 0; }
line=$("$BIN/ttrpc-bench" --iterations 20000 --clients 8 --seconds 2 2>>"$OUT/ttrpc.log")
echo "$line" > "$OUT/ttrpc.json"
echo "## ttrpc"
echo
echo "\`ttrpc-bench\`: 20,000 sequential Task.Connect round trips over a unix socket, then 8 concurrent clients for 2 s."
echo
echo "| p50 µs | p90 µs | p99 µs | max µs | calls/s (8 clients) | goal |"
echo "|---|---|---|---|---|---|"
echo "$line" | jq -r '"| \(.p50_us) | \(.p90_us) | \(.p99_us) | \(.max_us) | \(.calls_per_sec|floor) | p50 < 50 µs |"'
