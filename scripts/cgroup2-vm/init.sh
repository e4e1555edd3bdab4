#!/bin/busybox sh
# /init of the cgroup v2 VM (scripts/cgroup2-vm/lib.sh builds the initramfs). Stage 1 copies the initramfs
# into a tmpfs and switch_roots there (pivot_root, which every container does, refuses the initramfs's own
# root); stage 2 mounts the usual filesystems and only cgroup2, loads the kernel modules the lane needs, runs
# /payload (checks or bench) with its report on /dev/ttyS1 (a file on the host) and powers the VM off.
export PATH=/opt/tether/bin:/bin:/sbin:/usr/bin:/usr/sbin
if [ "$1" != stage2 ]; then
  /bin/busybox mount -t proc proc /proc
  /bin/busybox mount -t tmpfs -o mode=0755 tmpfs /newroot
  for entry in /*; do
    case $entry in /proc|/newroot|/sys|/dev) /bin/busybox mkdir -p /newroot$entry ;; *) /bin/busybox cp -a $entry /newroot/ ;; esac
  done
  /bin/busybox umount /proc
  exec /bin/busybox switch_root /newroot /init stage2
fi
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /run /tmp /var/lib
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
for module in /lib/modules/*.ko; do [ -f "$module" ] && insmod "$module"; done
hostname tether-vm
ip link set lo up 2>/dev/null
report=/dev/ttyS1
exec 3>"$report"
echo "vm: kernel $(uname -r), $(nproc) cpus, cgroup.controllers: $(cat /sys/fs/cgroup/cgroup.controllers)" >&3
# The controllers the runtime delegates: every container's cgroup gets them through subtree_control.
echo "+cpuset +cpu +io +memory +pids" > /sys/fs/cgroup/cgroup.subtree_control \
  || echo "vm: could not enable controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)" >&3
# v1 must be absent: a hybrid would send the runtime down its v1 paths.
grep -q ' cgroup ' /proc/mounts && echo "vm: a cgroup v1 hierarchy is mounted" >&3
sh /payload >&3 2>&3
echo "vm: payload exited $?" >&3
echo "vm: done" >&3
exec 3>&-
sync
poweroff -f
