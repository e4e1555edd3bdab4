#!/usr/bin/env bash
# Builds the test root filesystem from Debian's busybox-static: one static binary plus a symlink per applet,
# the usual top-level directories, and minimal /etc files. Idempotent: an existing, complete rootfs is kept.
#   usage: scripts/mkrootfs.sh DIR
set -euo pipefail
dir=${1:?usage: mkrootfs.sh DIR}
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "mkrootfs: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }
file "$busybox" 2>/dev/null | grep -q 'statically linked' || [ ! -x /usr/bin/file ] || { echo "mkrootfs: $busybox is not static" >&2; exit 1; }
[ -f "$dir/.complete" ] && exit 0
rm -rf "$dir"
mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home,run,var/tmp,data}
cp "$busybox" "$dir/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
done
chmod 1777 "$dir/tmp" "$dir/var/tmp"
cat > "$dir/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$dir/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
nogroup:x:65534:
GROUP
echo "tether-test" > "$dir/etc/hostname"
: > "$dir/etc/resolv.conf"
: > "$dir/etc/hosts"
touch "$dir/.complete"
echo "mkrootfs: $dir ready ($("$busybox" --list | wc -l) applets)"
