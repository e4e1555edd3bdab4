#!/usr/bin/python3
"""The CRI bench's driver (scripts/bench/cri.sh): times CRI calls against one containerd for each runtime handler,
all in one process so that no client start-up is timed, and prints the results as JSON.

    cri-bench.py --socket SOCK --image IMAGE --log-dir DIR --cgroup-parent /P [--runs 20] [--pods 10] HANDLER...

Per handler, after one unmeasured warm-up round, --runs rounds of: RunPodSandbox (create_pod), CreateContainer,
StartContainer (start), StopContainer with a 10 s grace period (stop; IMAGE's command must exit on SIGTERM), then
the pod's removal; then --runs pods from scratch (RunPodSandbox + CreateContainer + StartContainer, timed together);
then --pods pods with one container each running at once, and per pod the PSS and anonymous memory (kB,
/proc/PID/smaps_rollup) of the processes containerd started as the pod's shim. Times are in ms.
"""
import argparse
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402

import api_pb2 as api  # noqa: E402
import api_pb2_grpc  # noqa: E402


class Node:
    def __init__(self, args):
        self.args = args
        channel = grpc.insecure_channel("unix://" + args.socket)
        self.runtime = api_pb2_grpc.RuntimeServiceStub(channel)
        self.images = api_pb2_grpc.ImageServiceStub(channel)
        self.serial = 0

    def pod_config(self, handler):
        self.serial += 1
        name = f"bench-{handler}-{self.serial}"
        log_dir = os.path.join(self.args.log_dir, name)
        return api.PodSandboxConfig(
            metadata=api.PodSandboxMetadata(name=name, uid=name, namespace="tether-bench"),
            log_directory=log_dir,
            linux=api.LinuxPodSandboxConfig(
                cgroup_parent=self.args.cgroup_parent,
                security_context=api.LinuxSandboxSecurityContext(
                    namespace_options=api.NamespaceOption(network=api.NODE))))

    def run_pod(self, handler):
        config = self.pod_config(handler)
        answer = self.runtime.RunPodSandbox(api.RunPodSandboxRequest(config=config, runtime_handler=handler))
        return answer.pod_sandbox_id, config

    def create_container(self, pod_id, config):
        container = api.ContainerConfig(
            metadata=api.ContainerMetadata(name="main"), image=api.ImageSpec(image=self.args.image),
            log_path="main.log",
            linux=api.LinuxContainerConfig(security_context=api.LinuxContainerSecurityContext(
                namespace_options=api.NamespaceOption(network=api.NODE, pid=api.CONTAINER))))
        answer = self.runtime.CreateContainer(api.CreateContainerRequest(
            pod_sandbox_id=pod_id, config=container, sandbox_config=config))
        return answer.container_id

    def start(self, container_id):
        self.runtime.StartContainer(api.StartContainerRequest(container_id=container_id))

    def stop(self, container_id):
        self.runtime.StopContainer(api.StopContainerRequest(container_id=container_id, timeout=10))

    def remove_pod(self, pod_id):
        self.runtime.StopPodSandbox(api.StopPodSandboxRequest(pod_sandbox_id=pod_id))
        self.runtime.RemovePodSandbox(api.RemovePodSandboxRequest(pod_sandbox_id=pod_id))


def ms(start):
    return round((time.monotonic() - start) * 1000, 2)


def shim_pids(pod_id, socket):
    """Processes started with `-id POD -address SOCKET` (how containerd starts a pod's shim)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        pairs = set(zip(args, args[1:]))
        if (b"-id", pod_id.encode()) in pairs and (b"-address", socket.encode()) in pairs:
            pids.append(int(entry))
    return pids


def memory(pid):
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if parts[0] in ("Pss:", "Anonymous:", "Rss:"):
                values[parts[0].rstrip(":").lower()] = int(parts[1])
    with open(f"/proc/{pid}/status") as f:
        values["threads"] = next(int(line.split()[1]) for line in f if line.startswith("Threads:"))
    return values


def bench(node, handler, runs, pods):
    result = {"create_pod": [], "start": [], "stop": [], "from_scratch": [], "shims": []}
    for round_number in range(runs + 1):
        started = time.monotonic()
        pod_id, config = node.run_pod(handler)
        create_pod = ms(started)
        container_id = node.create_container(pod_id, config)
        started = time.monotonic()
        node.start(container_id)
        start = ms(started)
        started = time.monotonic()
        node.stop(container_id)
        stop = ms(started)
        node.remove_pod(pod_id)
        if round_number > 0:
            result["create_pod"].append(create_pod)
            result["start"].append(start)
            result["stop"].append(stop)
    for _ in range(runs):
        started = time.monotonic()
        pod_id, config = node.run_pod(handler)
        node.start(node.create_container(pod_id, config))
        result["from_scratch"].append(ms(started))
        node.remove_pod(pod_id)
    running = []
    try:
        for _ in range(pods):
            pod_id, config = node.run_pod(handler)
            node.start(node.create_container(pod_id, config))
            running.append(pod_id)
        time.sleep(1)
        for pod_id in running:
            pids = shim_pids(pod_id, node.args.socket)
            values = [memory(pid) for pid in pids]
            result["shims"].append({"processes": len(pids), "pss": sum(v["pss"] for v in values),
                                    "anon": sum(v["anonymous"] for v in values),
                                    "rss": sum(v["rss"] for v in values),
                                    "threads": sum(v["threads"] for v in values)})
    finally:
        for pod_id in running:
            node.remove_pod(pod_id)
    return result


def main():
    parser = argparse.ArgumentParser(description="Times CRI calls per runtime handler; JSON out.")
    parser.add_argument("--socket", required=True)
    parser.add_argument("--image", required=True, help="the containers' image (its command must exit on SIGTERM)")
    parser.add_argument("--log-dir", required=True)
    parser.add_argument("--cgroup-parent", required=True)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pods", type=int, default=10)
    parser.add_argument("handlers", nargs="+")
    args = parser.parse_args()
    node = Node(args)
    node.images.PullImage(api.PullImageRequest(image=api.ImageSpec(image=args.image)))
    print(json.dumps({handler: bench(node, handler, args.runs, args.pods) for handler in args.handlers}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
