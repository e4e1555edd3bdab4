#!/usr/bin/env bash
# Section: Kubernetes' path (issue 16). A private containerd 1.6 with its CRI plugin (scripts/cri/cri-plugin.toml),
# runtime handlers `tether` (tether-shim as containerd-shim-tether-v2) and `runc` (containerd-shim-runc-v2 + runc) in
# the same run, images from a local docker-registry; host-network pods whose one container runs the pause program
# (it exits on SIGTERM). The CRI calls are timed inside one Python client (scripts/cri/cri-bench.py).
source "$BENCH_HERE/lib.sh"
repo=$(cd "$BENCH_HERE/../.." && pwd)
runs=${CRI_RUNS:-20}
pods=${CRI_PODS:-10}
for tool in docker-registry skopeo gcc /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "_CRI section skipped: $tool is missing (make deps)._"; exit 0; }
done
/usr/bin/python3 -c 'import grpc' 2>/dev/null || { echo "_CRI section skipped: python3-grpcio is missing (make deps)._"; exit 0; }

work=$(mktemp -d /tmp/tether-bench-cri.XXXXXX)
cgroup_parent=/tether-bench-cri-$$
registry_pid=""; containerd_pid=""
cleanup() {
  set +e
  if [ -n "$containerd_pid" ]; then
    "${ctr_cmd[@]}" task ls -q 2>/dev/null | xargs -r -n 1 "${ctr_cmd[@]}" task delete -f >/dev/null 2>&1
    kill -9 "$containerd_pid" 2>/dev/null; wait "$containerd_pid" 2>/dev/null
  fi
  [ -n "$registry_pid" ] && { kill -9 "$registry_pid" 2>/dev/null; wait "$registry_pid" 2>/dev/null; }
  unmount_below "$work"
  for dir in /sys/fs/cgroup/*"$cgroup_parent"; do
    [ -d "$dir" ] && find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  rm -rf "$work"
  true
}
trap cleanup EXIT

# The registry, on a free loopback port, and the two images.
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
host=127.0.0.1:$port
cat > "$work/registry.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: $host
YAML
docker-registry serve "$work/registry.yml" >>"$OUT/cri-registry.log" 2>&1 &
registry_pid=$!
mkdir -p "$work/pause-root" "$work/bin" "$work/certs.d/$host" "$work/logs"
gcc -static -Os -o "$work/pause-root/pause" "$repo/Tests/RootfsPrograms/pause.c"
/usr/bin/python3 "$repo/scripts/cri/oci-image.py" "$work/pause-oci" 1 "$work/pause-root" --cmd /pause
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
skopeo copy -q --insecure-policy --dest-tls-verify=false "oci:$work/pause-oci:1" "docker://$host/tether/pause:1" >&2
image=$host/tether/pause:1

# containerd with the CRI plugin; tether-shim found on its PATH.
ln -s "$BIN/tether-shim" "$work/bin/containerd-shim-tether-v2"
printf 'server = "http://%s"\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' "$host" "$host" \
  > "$work/certs.d/$host/hosts.toml"
cat > "$work/config.toml" <<TOML
version = 2
root = "$work/root"
state = "$work/state"
[grpc]
  address = "$work/containerd.sock"
[ttrpc]
  address = "$work/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$work/opt"
TOML
sed -e "s|@DIR@|$work|g" -e "s|@SANDBOX_IMAGE@|$image|g" -e "s|@REGISTRY_CONFIG@|$work/certs.d|g" \
  "$repo/scripts/cri/cri-plugin.toml" >> "$work/config.toml"
PATH="$work/bin:$PATH" containerd --config "$work/config.toml" --log-level error >>"$OUT/cri-containerd.log" 2>&1 &
containerd_pid=$!
ctr_cmd=(ctr --address "$work/containerd.sock" -n k8s.io)
for _ in $(seq 100); do "${ctr_cmd[@]}" version >/dev/null 2>&1 && break; sleep 0.05; done

/usr/bin/python3 "$repo/scripts/cri/cri-bench.py" --socket "$work/containerd.sock" --image "$image" \
  --log-dir "$work/logs" --cgroup-parent "$cgroup_parent" --runs "$runs" --pods "$pods" runc tether > "$OUT/cri.json"

med() { jq -r --arg h "$1" --arg k "$2" '.[$h][$k][]' "$OUT/cri.json" | median; }
shim_med() { jq -r --arg h "$1" --arg k "$2" '.[$h].shims[][$k]' "$OUT/cri.json" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
verdict() { awk -v a="$1" -v b="$2" -v limit="$3" 'BEGIN{print (a/b <= limit ? "met" : "missed")}'; }

echo "## Kubernetes: containerd's CRI drives the shim"
echo
echo "A private containerd $(containerd --version | awk '{print $3}') with its CRI plugin, runtime handlers \`runc\` (containerd-shim-runc-v2 + runc)"
echo "and \`tether\` (tether-shim) in the same run; host-network pods, one container each running the pause program,"
echo "image from a local registry (already pulled). Each CRI call timed in one gRPC client (scripts/cri/cri-bench.py),"
echo "medians of $runs in ms (after one warm-up round). StopContainer has a 10 s grace period; the container exits on SIGTERM."
echo "\"Pod from scratch\" is RunPodSandbox + CreateContainer + StartContainer."
echo
echo "| handler | CreatePod (RunPodSandbox) | StartContainer | StopContainer | pod from scratch |"
echo "|---|---|---|---|---|"
for handler in runc tether; do
  echo "| $handler | $(med "$handler" create_pod) | $(med "$handler" start) | $(med "$handler" stop) | $(med "$handler" from_scratch) |"
done
echo
echo "Memory of a pod's shim with $pods pods of the handler running (medians over the pods, kB from smaps_rollup):"
echo
echo "| handler | shim processes per pod | PSS | Anon | RSS | threads |"
echo "|---|---|---|---|---|---|"
for handler in runc tether; do
  echo "| $handler | $(shim_med "$handler" processes) | $(shim_med "$handler" pss) | $(shim_med "$handler" anon) | $(shim_med "$handler" rss) | $(shim_med "$handler" threads) |"
done
echo
start_t=$(med tether start); start_r=$(med runc start)
stop_t=$(med tether stop); stop_r=$(med runc stop)
anon_t=$(shim_med tether anon); anon_r=$(shim_med runc anon)
echo "| goal (issue 16) | tether / runc | verdict |"
echo "|---|---|---|"
echo "| StartContainer at most 1/3 of the runc shim's | $(ratio "$start_t" "$start_r") | $(verdict "$start_t" "$start_r" 0.3334) |"
echo "| StopContainer at most 1/3 of the runc shim's | $(ratio "$stop_t" "$stop_r") | $(verdict "$stop_t" "$stop_r" 0.3334) |"
echo "| shim anonymous memory per pod at most 1/4 of the runc shim's | $(ratio "$anon_t" "$anon_r") | $(verdict "$anon_t" "$anon_r" 0.25) |"
exit 0
