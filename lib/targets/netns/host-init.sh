#!/bin/bash
# Runs as PID 1 of a lab host's new namespaces (net, mount, pid, uts, ipc), before anything else.
# Gives the host its own /run, /dev/shm, /tmp and its own copies of the paths the cluster daemons
# write (and a home for root of its own), then becomes the host's init (tini reaps orphans, e.g. children of a kill -9'd pacemakerd).
# $1 = this host's directory in the lab, $2 = fully qualified host name.
set -euo pipefail
H=$1
mount -t tmpfs -o mode=755,size=64m tmpfs /run
mkdir -p /run/lock /run/mysqld /run/sshd /run/crm /run/corosync /run/resource-agents
chown mysql:mysql /run/mysqld
# libqb keeps its IPC ring buffers in /dev/shm, named by PID: PIDs repeat across hosts.
mount -t tmpfs -o mode=1777,size=256m tmpfs /dev/shm
for p in etc/corosync etc/mysql etc/ssh var/lib/pacemaker var/lib/corosync var/lib/mysql var/log root; do
  mount --bind "$H/$p" "/$p"
done
mount --bind "$H/etc/hosts" /etc/hosts
mount --bind "$H/etc/hostname" /etc/hostname
mount -t tmpfs -o mode=1777,size=64m tmpfs /tmp
hostname "$2"
ip link set lo up
echo ready
exec tini -s -- sleep infinity
