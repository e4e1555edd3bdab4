# Shared helpers for the bench sections. Sourced, not run.
set -euo pipefail

# mkbundle DIR ARGS...: an OCI bundle whose root is the shared busybox rootfs (read-only), from `runc spec`.
mkbundle() {
  local dir=$1; shift
  mkdir -p "$dir"
  (cd "$dir" && rm -f config.json && runc spec)
  local args; args=$(printf '%s\n' "$@" | jq -R . | jq -s .)
  jq --arg root "$ROOTFS" --argjson args "$args" \
     '.root.path = $root | .root.readonly = true | .process.terminal = false | .process.args = $args' \
     "$dir/config.json" > "$dir/config.json.new"
  mv "$dir/config.json.new" "$dir/config.json"
}

# hf_row LABEL JSONFILE: a Markdown row "| LABEL | median | min | max | runs |" in ms from hyperfine's JSON.
hf_row() {
  jq -r --arg name "$1" '.results[0] | "| \($name) | \(.median*1000*100|floor/100) | \(.min*1000*100|floor/100) | \(.max*1000*100|floor/100) | \(.times|length) |"' "$2"
}

# ms START_NS END_NS: the milliseconds between two `date +%s%N` readings, two decimals.
ms() { awk -v s="$1" -v e="$2" 'BEGIN{printf "%.2f", (e-s)/1e6}'; }

# median of numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# mem_row LABEL PID...: RSS/PSS/USS/Anon (kB) summed from /proc/PID/smaps_rollup, and threads.
mem_of() {
  local pid=$1
  awk '/^Rss:/{r=$2} /^Pss:/{p=$2} /^Private_Clean:/{u+=$2} /^Private_Dirty:/{u+=$2} /^Anonymous:/{a=$2} END{print r, p, u, a}' "/proc/$pid/smaps_rollup"
}
threads_of() { awk '/^Threads:/{print $2}' "/proc/$1/status"; }

# containerd_start DIR: a private containerd whose root, state, sockets and opt dir are all under DIR (no CRI),
# logging to $OUT/containerd.log; sets containerd_pid and ctr_cmd (ctr on its socket, namespace bench), and
# returns once it answers. containerd_launch DIR: the same without waiting (to time its start).
containerd_start() {
  containerd_launch "$1"
  for _ in $(seq 100); do ctr_ version >/dev/null 2>&1 && break; sleep 0.05; done
}
containerd_launch() {
  local dir=$1
  cat > "$dir/config.toml" <<TOML
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
TOML
  containerd --config "$dir/config.toml" --log-level error >>"$OUT/containerd.log" 2>&1 &
  containerd_pid=$!
  ctr_cmd=(ctr --address "$dir/containerd.sock" -n bench)
}
ctr_() { "${ctr_cmd[@]}" "$@"; }

# containerd_stop: force-deletes every task and container of the private containerd, then kills it.
containerd_stop() {
  ctr_ task ls -q 2>/dev/null | xargs -r -P 16 -n 1 "${ctr_cmd[@]}" task delete -f >/dev/null 2>&1
  ctr_ container ls -q 2>/dev/null | xargs -r -n 50 "${ctr_cmd[@]}" container rm >/dev/null 2>&1
  kill -9 "$containerd_pid" 2>/dev/null
  wait "$containerd_pid" 2>/dev/null || true
  true
}

# stop_harness_shims DIR [SUFFIX]: for every DIR/ID$SUFFIX (default .addr) holding a tether-shim address, kills the
# container's processes, waits, deletes the task and shuts the shim down (tether-harness; failures ignored).
stop_harness_shims() {
  local dir=$1 suffix=${2:-.addr} file id address
  for file in "$dir"/*"$suffix"; do
    [ -f "$file" ] || continue
    id=$(basename "$file" "$suffix"); address=$(cat "$file" 2>/dev/null) || continue
    "$BIN/tether-harness" kill --socket "$address" --id "$id" --signal KILL --all --timeout 5 >/dev/null 2>&1
    "$BIN/tether-harness" wait --socket "$address" --id "$id" --timeout 5 >/dev/null 2>&1
    "$BIN/tether-harness" delete --socket "$address" --id "$id" --timeout 5 >/dev/null 2>&1
    "$BIN/tether-harness" shutdown --socket "$address" --id "$id" --now --timeout 5 >/dev/null 2>&1
  done
  true
}

# unmount_below DIR: lazily unmounts whatever is still mounted below DIR.
unmount_below() { grep " $1" /proc/mounts | awk '{print $2}' | xargs -r -n1 umount -l 2>/dev/null; true; }
