#!/usr/bin/env bash
# Builds the containers target's node root filesystem as a tarball, for `docker import`:
# a Debian bookworm made with debootstrap, plus the lab's packages, with service starts refused
# (policy-rc.d) so that no package starts a daemon while it is installed.
# Usage: build-rootfs.sh OUT.tar MIRROR PACKAGE...   (as root; called by image.ts)
# Mounts happen inside a private mount namespace (unshare -m) and vanish with it.
set -euo pipefail
out=$1; mirror=$2; shift 2
[ "$(id -u)" = 0 ] || { echo "build-rootfs: must run as root" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "build-rootfs: debootstrap is missing — apt-get install debootstrap (or npm run setup)" >&2; exit 1; }
work=$(mktemp -d /var/tmp/mhc-rootfs.XXXXXX)
trap 'rm -rf --one-file-system "$work"' EXIT
root=$work/root
t0=$(date +%s)
echo "build-rootfs: debootstrap bookworm (minbase) from $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || { tail -30 "$work/debootstrap.log" >&2; exit 1; }
echo "build-rootfs: debootstrap done in $(( $(date +%s) - t0 )) s"
printf '#!/bin/sh\n# no service starts inside the image build or the containers: the harness starts daemons\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cat >"$root/etc/apt/sources.list" <<SRC
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian}/debian-security bookworm-security main
SRC
cp /etc/resolv.conf "$root/etc/resolv.conf"
unshare --mount --fork bash -euo pipefail -c '
  root=$1; shift
  mount -t proc proc "$root/proc"
  export DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin
  chroot "$root" apt-get update -qq
  chroot "$root" apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-unsafe-io "$@" >/dev/null
  chroot "$root" apt-get clean
  umount "$root/proc"
' build "$root" "$@"
echo "build-rootfs: packages installed at $(( $(date +%s) - t0 )) s"
# The harness writes its own data directories, keys and configs; the package defaults go.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/lib/mysql/* "$root"/etc/ssh/ssh_host_* "$root/etc/resolv.conf"
: >"$root/etc/resolv.conf"
tar --numeric-owner --xattrs -C "$root" -cf "$out.partial.$$" .
mv "$out.partial.$$" "$out"
echo "build-rootfs: $out written in $(( $(date +%s) - t0 )) s ($(du -h "$out" | cut -f1))"
