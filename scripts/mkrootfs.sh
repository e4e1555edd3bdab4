#!/usr/bin/env bash
# Builds the test root filesystem from Debian's busybox-static: one static binary plus a symlink per applet,
# the usual top-level directories, minimal /etc files, and the test programs of Tests/RootfsPrograms (static C,
# in /usr/local/bin). Idempotent: a complete rootfs built from the same script and programs is kept.
#   usage: scripts/mkrootfs.sh DIR
set -euo pipefail
dir=${1:?usage: mkrootfs.sh DIR}
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "mkrootfs: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }
file "$busybox" 2>/dev/null | grep -q 'statically linked' || [ ! -x /usr/bin/file ] || { echo "mkrootfs: $busybox is not static" >&2; exit 1; }
programs=$(cd "$(dirname "$0")/../Tests/RootfsPrograms" && pwd)
# What the rootfs is built from: this script and the programs' sources. A change rebuilds it.
stamp=$(cat "$0" "$programs"/*.c | sha256sum | cut -d' ' -f1)
[ "$(cat "$dir/.complete" 2>/dev/null)" = "$stamp" ] && exit 0
rm -rf "$dir"
mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,proc,sys,dev,tmp,root,home,run,var/tmp,data}
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
for source in "$programs"/*.c; do
  gcc -static -Os -Wall -Werror -o "$dir/usr/local/bin/$(basename "$source" .c)" "$source"
done
# The CVE-2019-5736 shape: a script whose interpreter is the executable of whoever execs it.
printf '#!/proc/self/exe\n' > "$dir/usr/local/bin/self-exe-script"
chmod 0755 "$dir/usr/local/bin/self-exe-script"
echo "$stamp" > "$dir/.complete"
echo "mkrootfs: $dir ready ($("$busybox" --list | wc -l) applets)"
