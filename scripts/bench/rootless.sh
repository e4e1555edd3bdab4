#!/usr/bin/env bash
# Section: rootless. `tether-runtime run` against `runc run` of /bin/true as an unprivileged user (a user made for
# this section and removed after it), hyperfine -N, one bundle from `runc spec --rootless`, state in the user's
# XDG_RUNTIME_DIR.
source "$BENCH_HERE/lib.sh"
user="tetherrlbench$$"
work=$(mktemp -d /tmp/tether-bench-rootless.XXXXXX)
cleanup() {
  if id -u "$user" >/dev/null 2>&1; then
    uid=$(id -u "$user")
    for _ in $(seq 50); do
      pids=$(ps -o pid= -u "$uid" 2>/dev/null || true)
      [ -z "$pids" ] && break
      kill -9 $pids 2>/dev/null || true
      sleep 0.1
    done
    userdel -f "$user" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
useradd -M -U -d "$work/home" -s /bin/sh "$user"
mkdir -p "$work/home" "$work/xdg" "$work/bundle" "$work/bin"
cp -a "$ROOTFS" "$work/bundle/rootfs"
cp "$BIN/tether-runtime" "$work/bin/tether-runtime"
chown -R "$user:$user" "$work/home" "$work/xdg" "$work/bundle"
chmod 700 "$work/xdg"
as_user() {
  setpriv --reuid "$user" --regid "$user" --init-groups -- env -i HOME="$work/home" USER="$user" \
    XDG_RUNTIME_DIR="$work/xdg" PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin "$@"
}
(cd "$work/bundle" && as_user runc spec --rootless)
jq '.process.terminal = false | .process.args = ["/bin/true"]' "$work/bundle/config.json" >"$work/config.json"
install -o "$user" -m 644 "$work/config.json" "$work/bundle/config.json"
runs=${RUNTIME_RUNS:-100}
cd "$work/bundle"
# One hyperfine invocation for both, so the ratio compares runs made under the same machine load.
as_user hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/home/rootless.json" \
  "runc run --bundle $work/bundle bench-runc" \
  "$work/bin/tether-runtime run --bundle $work/bundle bench-tether" >"$OUT/rootless.log" 2>&1
cp "$work/home/rootless.json" "$OUT/rootless.json"
jq '{results: [.results[0]]}' "$OUT/rootless.json" >"$OUT/rootless-runc.json"
jq '{results: [.results[1]]}' "$OUT/rootless.json" >"$OUT/rootless-tether.json"
runc_ms=$(jq '.results[0].median*1000' "$OUT/rootless-runc.json")
tether_ms=$(jq '.results[0].median*1000' "$OUT/rootless-tether.json")
echo "## Rootless OCI runtime: run /bin/true as an unprivileged user"
echo
echo "hyperfine -N, $runs runs each in one invocation, as a user made for this run; \`runc spec --rootless\` config"
echo "(a user namespace mapping the user to root, no cgroups: the user may not create them), terminal off,"
echo "each runtime's default root under the user's XDG_RUNTIME_DIR."
echo
echo "| runtime | median ms | min | max | runs |"
echo "|---|---|---|---|---|"
hf_row "runc $(runc --version | head -1 | awk '{print $3}') (rootless)" "$OUT/rootless-runc.json"
hf_row "tether-runtime (rootless)" "$OUT/rootless-tether.json"
echo
echo "Ratio tether/runc: $(awk -v a="$tether_ms" -v b="$runc_ms" 'BEGIN{printf "%.2f", a/b}') (goal: at most 0.33)."
