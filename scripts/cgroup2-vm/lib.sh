# The cgroup v2 VM, shared by `make test-cgroup2` (scripts/test-cgroup2.sh) and `make bench`'s cgroup2 section.
# Sourced, not run. Debian's kernel (linux-image-amd64, 6.1) boots under qemu (TCG: -enable-kvm hangs on these
# machines) to an initramfs built here: busybox-static, the static release executables, the busybox test rootfs,
# the kernel modules the lane needs, and a payload script; its /init mounts only cgroup2.
#   vm_skip_reason          prints why qemu cannot run here (empty when it can)
#   vm_build DIR BIN ROOTFS PAYLOAD [HOST_FILE...]   writes DIR/initramfs.cpio (HOST_FILEs copied at their path,
#                           with their shared libraries)
#   vm_boot DIR SECONDS     boots it; the payload's report is DIR/report.log, the serial console DIR/console.log;
#                           0: the payload finished, 1: it did not (timeout, crash), 2: qemu could not start
set -euo pipefail
vm_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vm_kernel() { ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1; }
vm_qemu=qemu-system-x86_64
# The modules the checks need, from the installed kernel package: overlay (tetherd's container roots), tun
# (a device the filter tests allow and deny).
vm_modules="kernel/fs/overlayfs/overlay.ko kernel/drivers/net/tun.ko"

vm_skip_reason() {
  command -v "$vm_qemu" >/dev/null || { echo "$vm_qemu not installed (make deps: qemu-system-x86)"; return; }
  [ -n "$(vm_kernel)" ] || { echo "no kernel in /boot (make deps: linux-image-amd64)"; return; }
}

vm_build() {
  local dir=$1 bin=$2 rootfs=$3 payload=$4; shift 4
  local root=$dir/root release
  release=$(vm_kernel | sed 's|.*/vmlinuz-||')
  rm -rf "$root"
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,newroot,lib/modules,opt/tether/bin,etc}
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"; done
  for module in $vm_modules; do cp "/lib/modules/$release/$module" "$root/lib/modules/"; done
  for executable in tether-runtime tether-shim tether-harness tetherd tetherctl; do
    # Stripped: a smaller initramfs unpacks faster under emulation.
    strip -o "$root/opt/tether/bin/$executable" "$bin/$executable" 2>/dev/null || cp "$bin/$executable" "$root/opt/tether/bin/"
  done
  vm_copy_libraries "$root" "$root"/opt/tether/bin/*
  cp -a "$rootfs" "$root/rootfs"
  # tetherrl: the unprivileged user of the rootless checks (a delegated cgroup subtree).
  printf 'root:x:0:0:root:/root:/bin/sh\ntetherrl:x:1500:1500::/run/rl:/bin/sh\n' > "$root/etc/passwd"
  printf 'root:x:0:\ntetherrl:x:1500:\n' > "$root/etc/group"
  # The bundle template every check starts from: `runc spec` on the VM's rootfs, read-only, a cgroup namespace
  # (as Docker on v2). vm-lib.sh's bundle() fills the @…@ placeholders.
  local spec; spec=$(mktemp -d)
  (cd "$spec" && runc spec)
  jq -c '.root = {path: "/rootfs", readonly: true} | .process.terminal = false | .process.args = "@ARGS@"
         | .linux.namespaces += [{type: "cgroup"}] | .linux.cgroupsPath = "@CGROUP@"
         | .linux.resources = "@RESOURCES@" | .linux.devices = "@DEVICES@" | .mounts += ["@MOUNT@"]' \
     "$spec/config.json" > "$root/etc/bundle-template.json"
  # The rootless checks' template: `runc spec --rootless` for that user (uid and gid 1500 mapped to 0).
  (cd "$spec" && rm -f config.json && runc spec --rootless)
  jq -c '.root = {path: "/rootfs", readonly: true} | .process.terminal = false | .process.args = "@ARGS@"
         | .linux.uidMappings = [{containerID: 0, hostID: 1500, size: 1}] | .linux.gidMappings = [{containerID: 0, hostID: 1500, size: 1}]
         | .linux.cgroupsPath = "@CGROUP@" | .linux.resources = "@RESOURCES@"' \
     "$spec/config.json" > "$root/etc/bundle-rootless-template.json"
  rm -rf "$spec"
  gcc -static -Os -Wall -Werror -o "$root/usr/bin/tmpfile-probe" "$vm_here/tmpfile-probe.c"
  cp "$vm_here/init.sh" "$root/init"
  cp "$vm_here/vm-lib.sh" "$root/vm-lib.sh"
  cp "$payload" "$root/payload"
  local file
  for file in "$@"; do mkdir -p "$root$(dirname "$file")"; cp -L "$file" "$root$file"; done
  [ $# = 0 ] || vm_copy_libraries "$root" "$@"
  (cd "$root" && find . | cpio -o -H newc --quiet) > "$dir/initramfs.cpio"
}

# vm_copy_libraries ROOT EXECUTABLE...: the shared libraries (and loader) of the dynamically linked ones, copied
# into ROOT at their host paths (tether-harness is not linked static; Debian's runc is dynamic).
vm_copy_libraries() {
  local root=$1 library; shift
  for library in $(ldd "$@" 2>/dev/null | grep -o '/[^ ]*\.so[^ ]*' | sort -u); do
    mkdir -p "$root$(dirname "$library")"
    cp -L "$library" "$root$library"
  done
}

vm_boot() {
  local dir=$1 seconds=$2 status=0
  : > "$dir/report.log"; : > "$dir/console.log"
  timeout --kill-after=5 "$seconds" "$vm_qemu" -accel tcg -machine q35 -cpu max -smp 2 -m 1536 -nodefaults \
    -no-user-config -display none -monitor none -no-reboot \
    -kernel "$(vm_kernel)" -initrd "$dir/initramfs.cpio" -append "console=ttyS0 panic=-1 quiet" \
    -serial "file:$dir/console.log" -serial "file:$dir/report.log" </dev/null >"$dir/qemu.log" 2>&1 || status=$?
  grep -q '^vm: done' "$dir/report.log" && return 0
  # Not a single byte on the console and an error of qemu's own (not the timeout's 124/137): it never started.
  if [ "$status" != 0 ] && [ "$status" != 124 ] && [ "$status" != 137 ] && [ ! -s "$dir/console.log" ]; then return 2; fi
  return 1
}
