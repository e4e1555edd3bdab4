#!/usr/bin/python3
"""Builds a one-layer OCI image layout from a directory, for Tether's CRI test lane and CRI bench.

    oci-image.py LAYOUT TAG ROOTFS [--cmd ARG ...]

LAYOUT becomes an OCI image layout (oci-layout, index.json, blobs/sha256) holding one linux/amd64 image tagged
TAG: ROOTFS as a gzip layer (owners root, modes kept), and a config whose Cmd is --cmd. `skopeo copy
oci:LAYOUT:TAG docker://...` then pushes it to a registry.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile


def write_blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(layout, "blobs", "sha256", digest)
    with open(path, "wb") as blob:
        blob.write(data)
    return "sha256:" + digest, len(data)


def layer_of(rootfs):
    """The uncompressed tar of ROOTFS (root-owned, sorted, mtime 0) and its gzip."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def clean(info):
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mtime = 0
            return info
        for name in sorted(os.listdir(rootfs)):
            tar.add(os.path.join(rootfs, name), arcname=name, filter=clean)
    tar_bytes = raw.getvalue()
    return tar_bytes, gzip.compress(tar_bytes, compresslevel=1, mtime=0)


def main():
    parser = argparse.ArgumentParser(description="A one-layer OCI image layout from a directory.")
    parser.add_argument("layout")
    parser.add_argument("tag")
    parser.add_argument("rootfs")
    parser.add_argument("--cmd", nargs="*", default=["/bin/sh"])
    args = parser.parse_args()
    if not os.path.isdir(args.rootfs):
        print(f"oci-image: rootfs {args.rootfs!r} is not a directory", file=sys.stderr)
        return 1
    os.makedirs(os.path.join(args.layout, "blobs", "sha256"), exist_ok=True)
    tar_bytes, gz_bytes = layer_of(args.rootfs)
    layer_digest, layer_size = write_blob(args.layout, gz_bytes)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": args.cmd, "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar_bytes).hexdigest()]},
    }
    config_digest, config_size = write_blob(args.layout, json.dumps(config).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
                   "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest,
                    "size": layer_size}],
    }
    manifest_digest, manifest_size = write_blob(args.layout, json.dumps(manifest).encode())
    index = {
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
                       "size": manifest_size, "annotations": {"org.opencontainers.image.ref.name": args.tag},
                       "platform": {"architecture": "amd64", "os": "linux"}}],
    }
    with open(os.path.join(args.layout, "index.json"), "w") as out:
        json.dump(index, out)
    with open(os.path.join(args.layout, "oci-layout"), "w") as out:
        json.dump({"imageLayoutVersion": "1.0.0"}, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
