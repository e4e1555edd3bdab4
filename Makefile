# Tether build, test, run and bench. Every target that needs system packages calls `deps` first,
# so `make run` and `make test` work on a fresh Debian 12 machine (as root).
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

SWIFT ?= swift
PREFIX ?= /usr/local
ROOTFS ?= $(CURDIR)/.rootfs/busybox
DEBUG_BIN = $(shell $(SWIFT) build --show-bin-path 2>/dev/null)
# The release flags that must reach the dependency packages too, so they cannot live in Package.swift (which holds
# the per-executable link settings): the Swift runtime linked in, and every function in a section of its own, so
# that the linker can drop unused ones and lay out hot ones together (scripts/layout/, Documentation/Performance.md).
RELEASE_FLAGS = -c release --static-swift-stdlib -Xswiftc -Xfrontend -Xswiftc -function-sections
RELEASE_BIN = $(shell $(SWIFT) build $(RELEASE_FLAGS) --show-bin-path 2>/dev/null)
EXECUTABLES = tether-runtime tether-shim tether-harness tetherd tetherctl

DEPS = libseccomp-dev libcap-dev pkg-config busybox-static runc containerd conmon podman hyperfine \
       protobuf-compiler jq time tmux file procps iproute2 strace valgrind python3 gcc libc6-dev \
       qemu-system-x86 linux-image-amd64 python3-grpcio python3-protobuf protobuf-compiler-grpc docker-registry skopeo uidmap libssl-dev

.PHONY: all deps build release rootfs test test-cgroup2 unit-test integration-test check-docs run bench install clean proto fuzz layout exec-helper

all: build

deps:
	@missing=$$(for p in $(DEPS); do dpkg -s $$p 2>/dev/null | grep -q '^Status: install ok' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT) build --build-tests

release: deps
	$(SWIFT) build $(RELEASE_FLAGS)

rootfs: deps
	@scripts/mkrootfs.sh $(ROOTFS)

# Every test target but IntegrationTests: no root, no built executables, no rootfs; a new test target joins by itself.
unit-test: build check-docs
	$(SWIFT) test --skip-build --skip IntegrationTests

# The root-only tests that drive the built executables against the real kernel and peers (part of `test`).
integration-test: build rootfs
	TETHER_BIN_DIR=$(DEBUG_BIN) TETHER_TEST_ROOTFS=$(ROOTFS) $(SWIFT) test --skip-build --filter IntegrationTests

# Every path a README or Documentation page names exists in the repository.
check-docs:
	@scripts/check-doc-links.sh

# Unit tests run as any user; integration tests need root and drive the built executables on the busybox rootfs.
# The suite ends with scripts/check-leftovers.sh: it fails if any process, mount or /run/tether entry the tests made is
# left (compared with a snapshot taken before them). Then the cgroup v2 lane (test-cgroup2); any failing fails `test`.
LEFTOVERS_SNAPSHOT = $(CURDIR)/.build/leftovers-snapshot
test: build rootfs check-docs
	@scripts/check-leftovers.sh snapshot $(LEFTOVERS_SNAPSHOT) $(DEBUG_BIN) $(ROOTFS)
	TETHER_BIN_DIR=$(DEBUG_BIN) TETHER_TEST_ROOTFS=$(ROOTFS) $(SWIFT) test --skip-build; status=$$?; \
	  scripts/check-leftovers.sh check $(LEFTOVERS_SNAPSHOT) $(DEBUG_BIN) $(ROOTFS) || status=1; \
	  $(MAKE) --no-print-directory test-cgroup2 || status=1; exit $$status

# The cgroup v2-only lane: the static release executables and the busybox rootfs in an initramfs, Debian's kernel
# under qemu (TCG) with only cgroup2 mounted, end-to-end checks through the CLIs (scripts/cgroup2-vm/checks.sh).
# This machine is a v1 hybrid; users run v2-only hosts. Prints one line per check and its time (under 10 minutes).
test-cgroup2: release rootfs
	@scripts/test-cgroup2.sh $(RELEASE_BIN) $(ROOTFS)

run: release rootfs
	@scripts/run-demo.sh $(RELEASE_BIN) $(ROOTFS)

bench: release rootfs
	@scripts/bench.sh $(RELEASE_BIN) $(ROOTFS)

# The executables stripped, their debug info kept apart by build id under $(PREFIX)/lib/debug (as Debian's -dbgsym).
install: release
	install -d $(DESTDIR)$(PREFIX)/bin
	for e in $(EXECUTABLES); do \
	  scripts/install-stripped.sh $(RELEASE_BIN)/$$e $(DESTDIR)$(PREFIX)/bin/$$e $(DESTDIR)$(PREFIX)/lib/debug || exit 1; \
	done
	ln -sf tether-shim $(DESTDIR)$(PREFIX)/bin/containerd-shim-tether-v2

# Regenerate the committed Swift protobuf code (TTRPC, TetherAPI) and typed ttrpc methods from their .proto files.
proto:
	@scripts/proto.sh

# Regenerates the CRI test lane's Python gRPC client (scripts/cri/api_pb2*.py) from scripts/cri/api.proto.
.PHONY: cri-client
cri-client: deps
	@scripts/cri/generate.sh

# Rebuilds tether-exec (the few hundred bytes every container process's last exec goes through) from
# scripts/exec-helper/tether-exec.c into the committed Sources/TetherRuntime/ExecHelperImage.swift.
exec-helper: deps
	@scripts/exec-helper/generate.sh

# Re-profiles what the long-lived shim and tetherd run (callgrind) and rewrites the function orders their release
# links use (Sources/tether-shim/hot-functions.order, Sources/tetherd/hot-functions.order); then rebuild.
layout: release rootfs
	@scripts/layout/shim.sh $(RELEASE_BIN) $(ROOTFS)
	@scripts/layout/tetherd.sh $(RELEASE_BIN) $(ROOTFS)

# Random-frame fuzzing of the ttrpc codec and server (Sources/ttrpc-fuzz) under AddressSanitizer, FUZZ_SECONDS long.
# (LeakSanitizer is off: it cannot follow Swift's tagged weak-reference side-table pointers and reports them.)
FUZZ_SECONDS ?= 60
fuzz:
	$(SWIFT) build --scratch-path .build-fuzz --sanitize=address --product ttrpc-fuzz
	ASAN_OPTIONS=detect_leaks=0 $$($(SWIFT) build --scratch-path .build-fuzz --sanitize=address --show-bin-path)/ttrpc-fuzz \
	  --seconds $(FUZZ_SECONDS) --socket

clean:
	rm -rf .build .rootfs bench-results
