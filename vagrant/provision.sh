#!/usr/bin/env bash
# Provisions one host of the Vagrant cluster from a harness profile (profiles/seed by default):
# the same corosync.conf, cluster.crm, mysql/common.cnf + mysql/<host>.cnf and MySQL accounts
# (profile.json) that the netns lab uses.
#
#   vagrant/provision.sh [--dry-run] HOST PROFILE_DIR
#
# db hosts: corosync + Pacemaker + crmsh + MariaDB with the profile's settings; the admin and
# replication accounts; the replica (mysql.replication.replica) replicates from the primary with
# GTIDs; the cluster stack is started (corosync, then pacemaker — not at boot, as the notebook
# says), and the db host that finds both nodes online applies cluster.crm with crmsh
# (`crm configure load update`). The management host (batch1) gets the MariaDB client.
# --dry-run prints every step instead of doing it (passwords masked); it needs bash and jq only.
set -euo pipefail

DRY=""
if [ "${1:-}" = "--dry-run" ]; then DRY=1; shift; fi
if [ $# -ne 2 ]; then echo "usage: $0 [--dry-run] HOST PROFILE_DIR" >&2; exit 2; fi
HOST=$1
PROFILE=${2%/}
PJ="$PROFILE/profile.json"
for f in profile.json corosync.conf cluster.crm mysql/common.cnf; do
  [ -f "$PROFILE/$f" ] || { echo "provision: $PROFILE/$f is missing (a profile holds profile.json, corosync.conf, cluster.crm, mysql/*.cnf)" >&2; exit 1; }
done
command -v jq >/dev/null || { [ -n "$DRY" ] && { echo "provision: jq is needed" >&2; exit 1; }; apt-get update -qq && apt-get install -y -qq jq >/dev/null; }

j() { jq -er "$1" "$PJ"; }
ROLE=$(jq -r --arg h "$HOST" '.hosts[$h].role // empty' "$PJ")
[ -n "$ROLE" ] || { echo "provision: host \"$HOST\" is not in $PJ (hosts: $(jq -r '.hosts|keys|join(", ")' "$PJ"))" >&2; exit 1; }
NIC=$(jq -r '.network.interface // "eth1"' "$PJ")
DOMAIN=$(jq -r '.network.domain // "localnet"' "$PJ")
PORT=$(jq -r '.mysql.port // 3306' "$PJ")
ADMIN_USER=$(j .mysql.admin.user); ADMIN_PW=$(j .mysql.admin.password)
RPL_USER=$(j .mysql.replication.user); RPL_PW=$(j .mysql.replication.password)
PRIMARY=$(j .mysql.replication.primary); REPLICA=$(j .mysql.replication.replica)
PRIMARY_ADDR=$(j ".hosts.\"$PRIMARY\".address")
mapfile -t DBS < <(jq -r '.hosts|to_entries[]|select(.value.role=="db")|.key' "$PJ")
[ "$ROLE" != db ] || [ -f "$PROFILE/mysql/$HOST.cnf" ] || { echo "provision: $PROFILE/mysql/$HOST.cnf is missing" >&2; exit 1; }

mask() { local s=$1; for p in "$ADMIN_PW" "$RPL_PW"; do s=${s//"'$p'"/"'***'"}; s=${s//"-p$p"/"-p***"}; done; printf '%s' "$s"; }
step() { printf '== %s: %s\n' "$HOST" "$*"; }
run() { if [ -n "$DRY" ]; then printf '+ %s\n' "$(mask "$*")"; else "$@"; fi; }
put() { # put SRC DEST: install a profile file
  if [ -n "$DRY" ]; then printf '+ install -m 0644 %s %s\n' "$1" "$2"; else install -D -m 0644 "$1" "$2"; fi
}
write() { # write DEST <<< content
  local content; content=$(cat)
  if [ -n "$DRY" ]; then printf '+ write %s:\n%s\n' "$1" "$(sed 's/^/    /' <<<"$content")"; else mkdir -p "$(dirname "$1")"; printf '%s\n' "$content" >"$1"; fi
}
sql() { # sql STATEMENT (as root over the local socket)
  if [ -n "$DRY" ]; then printf '+ mysql -e %s\n' "$(mask "$1")"; else mysql -uroot -e "$1" 2>/dev/null || mysql -u"$ADMIN_USER" -p"$ADMIN_PW" -e "$1"; fi
}
wait_for() { # wait_for WHAT SECONDS CMD...: bounded, named
  local what=$1 secs=$2; shift 2
  if [ -n "$DRY" ]; then printf '+ wait up to %ss for %s: %s\n' "$secs" "$what" "$(mask "$*")"; return; fi
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || { echo "provision: timed out after ${secs}s waiting for $what" >&2; exit 1; }
    sleep 2
  done
}

step "role $ROLE, profile $(jq -r .name "$PJ") ($PROFILE)${DRY:+ [dry run]}"

step "hostname and /etc/hosts from $PJ"
run hostnamectl set-hostname "$HOST"
write /etc/hosts.mhc < <(jq -r --arg d "$DOMAIN" '.hosts|to_entries[]|"\(.value.address) \(.key).\($d) \(.key)"' "$PJ")
run sh -c "grep -v -f /etc/hosts.mhc /etc/hosts | grep -vw '$HOST' > /etc/hosts.new; cat /etc/hosts.mhc >> /etc/hosts.new; mv /etc/hosts.new /etc/hosts"

if [ "$ROLE" = management ]; then
  step "packages (the management host: MariaDB client, socat)"
  run env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-client socat
  step "done"
  exit 0
fi

step "the profile's interface $NIC carries $(j ".hosts.\"$HOST\".address")"
run sh -c "ip -br addr show dev $NIC | grep -qw $(j ".hosts.\"$HOST\".address")"

step "packages: corosync 3, Pacemaker 2, crmsh, resource-agents, MariaDB; iptables for the partition and packet-loss faults"
run env DEBIAN_FRONTEND=noninteractive apt-get update -qq
run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq corosync pacemaker pacemaker-cli-utils crmsh resource-agents mariadb-server mariadb-client iptables

step "MariaDB settings: mysql/common.cnf and mysql/$HOST.cnf of the profile"
put "$PROFILE/mysql/common.cnf" /etc/mysql/mariadb.conf.d/60-mhc-profile-common.cnf
put "$PROFILE/mysql/$HOST.cnf" /etc/mysql/mariadb.conf.d/61-mhc-profile-host.cnf
run systemctl enable mariadb
run systemctl restart mariadb
wait_for "mariadb on $HOST" 60 mysqladmin -uroot ping

if [ "$HOST" != "$REPLICA" ]; then
step "accounts from profile.json: admin $ADMIN_USER@'%' and replication $RPL_USER@'%' (they reach the replica by replication)"
sql "CREATE USER IF NOT EXISTS '$ADMIN_USER'@'%' IDENTIFIED BY '$ADMIN_PW'; ALTER USER '$ADMIN_USER'@'%' IDENTIFIED BY '$ADMIN_PW'; GRANT ALL PRIVILEGES ON *.* TO '$ADMIN_USER'@'%' WITH GRANT OPTION"
sql "CREATE USER IF NOT EXISTS '$RPL_USER'@'%' IDENTIFIED BY '$RPL_PW'; GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '$RPL_USER'@'%'"
fi

if [ "$HOST" = "$REPLICA" ]; then
  # Nothing is written on the replica before it replicates (gtid_strict_mode): the accounts come from $PRIMARY.
  step "replication $PRIMARY → $HOST with GTIDs (mysqlreplicate's job in the notebook)"
  wait_for "MariaDB on $PRIMARY ($PRIMARY_ADDR:$PORT)" 300 mysql -h "$PRIMARY_ADDR" -P "$PORT" -u"$RPL_USER" -p"$RPL_PW" -e 'SELECT 1'
  sql "STOP SLAVE; RESET SLAVE ALL; CHANGE MASTER TO master_host='$PRIMARY_ADDR', master_port=$PORT, master_user='$RPL_USER', master_password='$RPL_PW', master_use_gtid=slave_pos; SET GLOBAL read_only=ON; START SLAVE"
  wait_for "replication $PRIMARY → $HOST (IO and SQL threads)" 60 sh -c "mysql -uroot -e 'SHOW SLAVE STATUS\\G' | grep -q 'Slave_SQL_Running: Yes' && mysql -uroot -e 'SHOW SLAVE STATUS\\G' | grep -q 'Slave_IO_Running: Yes'"
fi

step "corosync.conf of the profile; the stack is not started at boot and not respawned (as the notebook's SysV init)"
put "$PROFILE/corosync.conf" /etc/corosync/corosync.conf
for u in corosync pacemaker; do
  write "/etc/systemd/system/$u.service.d/mhc.conf" <<<"[Service]
Restart=no"
done
run systemctl daemon-reload
run systemctl disable corosync pacemaker
step "start corosync, then pacemaker"
run systemctl start corosync
wait_for "corosync on $HOST" 60 corosync-cmapctl -g runtime.votequorum.this_node_id
run systemctl start pacemaker
wait_for "pacemaker on $HOST to answer" 120 crm_mon -1

# The CIB is the cluster's: whichever db host finds every db node online applies cluster.crm
# (db2 on a first `vagrant up`; db1 when re-provisioned later).
step "cluster.crm with crmsh once ${DBS[*]} are online"
online() { crm_mon -1 | grep -E '^ *(\* )?Online:' | grep -qw "$1"; }
all_online() { for n in "${DBS[@]}"; do online "$n" || return 1; done; }
if [ -n "$DRY" ] || all_online; then
  wait_for "a DC to be elected" 120 sh -c "crm_mon -1 | grep -q 'Current DC: [a-z]'"
  run crm configure load update "$PROFILE/cluster.crm"
  wait_for "the VIP resource to start" 60 sh -c "crm_mon -1 | grep -E 'vip.*Started'"
  run crm configure show
else
  step "not every db node is online yet: the last db host to come up applies cluster.crm"
fi
step "done"
