#!/usr/bin/python3
"""A small CRI (runtime.v1) client for Tether's CRI test lane: one call per run, JSON in and out.

    cri-client.py --socket /path/containerd.sock [--timeout SECONDS] METHOD < request.json

METHOD is a RuntimeService or ImageService method of scripts/cri/api.proto (e.g. RunPodSandbox, PullImage).
The request is the method's request message as protobuf JSON on stdin (empty stdin: an empty request); the
answer is printed as protobuf JSON (field names as in the .proto, default values included). A gRPC error prints
{"error": {"code": "DEADLINE_EXCEEDED", "details": "..."}} on stdout, the same on stderr, and exits 2; bad usage
exits 1. Runs with Debian's python3-grpcio and python3-protobuf (make deps).
"""
import argparse
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402
from google.protobuf import json_format  # noqa: E402

import api_pb2  # noqa: E402
import api_pb2_grpc  # noqa: E402

SERVICES = {
    "RuntimeService": api_pb2_grpc.RuntimeServiceStub,
    "ImageService": api_pb2_grpc.ImageServiceStub,
}


def find_method(name):
    """The stub class and the request/response types of METHOD, from the proto's descriptor."""
    for service_name, stub in SERVICES.items():
        service = api_pb2.DESCRIPTOR.services_by_name[service_name]
        method = service.methods_by_name.get(name)
        if method is not None:
            request = getattr(api_pb2, method.input_type.name)
            return stub, request
    return None, None


def connect(socket_path):
    return grpc.insecure_channel("unix://" + socket_path)


def call(channel, method, request, timeout):
    stub_class, _ = find_method(method)
    return getattr(stub_class(channel), method)(request, timeout=timeout)


def to_json(message):
    return json_format.MessageToDict(message, preserving_proto_field_name=True,
                                     including_default_value_fields=True)


def main():
    parser = argparse.ArgumentParser(description="One CRI call, protobuf JSON in and out.")
    parser.add_argument("--socket", required=True, help="containerd's gRPC socket")
    parser.add_argument("--timeout", type=float, default=60, help="deadline of the call, seconds (default 60)")
    parser.add_argument("method")
    args = parser.parse_args()
    stub_class, request_type = find_method(args.method)
    if stub_class is None:
        print(f"cri-client: unknown method {args.method!r}", file=sys.stderr)
        return 1
    text = sys.stdin.read().strip() or "{}"
    try:
        request = json_format.Parse(text, request_type())
    except json_format.ParseError as error:
        print(f"cri-client: bad {request_type.__name__} JSON on stdin: {error}", file=sys.stderr)
        return 1
    with connect(args.socket) as channel:
        try:
            response = call(channel, args.method, request, args.timeout)
        except grpc.RpcError as error:
            answer = {"error": {"code": error.code().name, "details": error.details()}}
            print(json.dumps(answer))
            print(f"cri-client: {args.method}: {error.code().name}: {error.details()}", file=sys.stderr)
            return 2
    print(json.dumps(to_json(response)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
