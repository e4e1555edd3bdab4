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

# median of numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# mem_row LABEL PID...: RSS/PSS/USS/Anon (kB) summed from /proc/PID/smaps_rollup, and threads.
mem_of() {
  local pid=$1
  awk '/^Rss:/{r=$2} /^Pss:/{p=$2} /^Private_Clean:/{u+=$2} /^Private_Dirty:/{u+=$2} /^Anonymous:/{a=$2} END{print r, p, u, a}' "/proc/$pid/smaps_rollup"
}
threads_of() { awk '/^Threads:/{print $2}' "/proc/$1/status"; }
