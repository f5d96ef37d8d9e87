#!/bin/bash
# Runs as PID 1 of a lab host's new namespaces (net, mount, pid, uts, ipc), before anything else.
# Gives the host its own /run, /dev/shm, /tmp and its own copies of the paths the cluster daemons
# write (and a home for root of its own), then becomes the host's init (tini reaps orphans, e.g. children of a kill -9'd pacemakerd).
# $1 = this host's directory in the lab, $2 = host name (short, as uname -n gives it), $3 = the datadir's size (MiB).
set -euo pipefail
H=$1
mount -t tmpfs -o mode=755,size=64m tmpfs /run
mkdir -p /run/lock /run/mysqld /run/sshd /run/crm /run/corosync /run/resource-agents /run/corosync-qdevice /run/corosync-qnetd
chown mysql:mysql /run/mysqld
# libqb keeps its IPC ring buffers in /dev/shm, named by PID: PIDs repeat across hosts.
mount -t tmpfs -o mode=1777,size=256m tmpfs /dev/shm
for p in etc/corosync etc/mysql etc/ssh var/lib/pacemaker var/lib/corosync var/log root; do
  mount --bind "$H/$p" "/$p"
done
# MariaDB's datadir on a filesystem of its own, small and bounded, as a server's data volume: a full
# disk then means this host's datadir, never the machine's disk (the disk-full fault). It lives as
# long as this mount namespace, i.e. the host's init: a power loss spares the init, a rebuild
# starts from an empty datadir anyway.
mount -t tmpfs -o "mode=750,size=${3}m,uid=$(id -u mysql),gid=$(id -g mysql)" tmpfs /var/lib/mysql
# The lab's power switch listens on a socket in this directory (lib/targets/netns/power.ts): the
# fence agent reaches it at /run/mhc/power.sock, and the switch knows which host asks by the socket.
if [ -d "$H/power" ]; then
  mkdir -p /run/mhc
  mount --bind "$H/power" /run/mhc
fi
mount --bind "$H/etc/hosts" /etc/hosts
mount --bind "$H/etc/hostname" /etc/hostname
mount -t tmpfs -o mode=1777,size=64m tmpfs /tmp
hostname "$2"
ip link set lo up
echo ready
exec tini -s -- sleep infinity
