#!/usr/bin/env bash
# Provisions one host of the Vagrant cluster from a harness profile rendered for it
# (`npm run vagrant:profile -- NAME`, which the Vagrantfile runs): the same corosync.conf,
# cluster.crm, mysql/common.cnf + mysql/<host>.cnf and MySQL accounts (profile.json) that the netns
# lab uses, and provision.json (lib/profile/render-vagrant.ts) for what the profile adds.
#
#   vagrant/provision.sh [--dry-run] HOST RENDERED_PROFILE_DIR
#
# db hosts: corosync + Pacemaker + crmsh + MariaDB with the profile's settings; the admin and
# replication accounts; the replica (mysql.replication.replica) replicates from the primary with
# GTIDs; the cluster stack is started (corosync, then pacemaker); the db host that finds both
# nodes online applies cluster.crm with crmsh (`crm configure load update`). The management host
# (batch1) gets the MariaDB client. What provision.json adds (the hardened profiles):
#   - corosync-qnetd on the management host (provisioned first), corosync-qdevice on the db hosts;
#   - the profile's resource agents as ocf:mhc:TYPE; the fence agents' packages;
#   - pacemaker.service's Restart=, and the stack enabled at boot when the profile fences (a fenced
#     node must rejoin by itself); the seed's stack is started by hand, as the notebook says;
#   - MariaDB handed to Pacemaker: mysql/accounts.sql on the primary, its systemd unit disabled,
#     and both servers stopped once the replica has caught up, before cluster.crm is applied.
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
[ -f "$PROFILE/provision.json" ] || { echo "provision: $PROFILE/provision.json is missing: give the profile as rendered by npm run vagrant:profile -- NAME (the Vagrantfile does it), not profiles/NAME itself" >&2; exit 1; }
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
PV="$PROFILE/provision.json"
QNETD=$(jq -r '.qnetdHost // empty' "$PV")
RESTART=$(jq -er .pacemakerRestart "$PV")
AT_BOOT=$(jq -r .stackAtBoot "$PV")  # -r, not -e: jq -e fails on false
UNDER_PCMK=$(jq -r .mysqlUnderPacemaker "$PV")
ACCOUNTS_SQL=$(jq -r .accountsSql "$PV")
mapfile -t AGENTS < <(jq -r '.ocfAgents[]' "$PV")
mapfile -t DB_PKGS < <(jq -r '.dbPackages[]' "$PV")
mapfile -t MGMT_PKGS < <(jq -r '.managementPackages[]' "$PV")
STACK=(corosync ${QNETD:+corosync-qdevice} pacemaker)
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
sql_file() { # sql_file FILE (as root over the local socket)
  if [ -n "$DRY" ]; then printf '+ mysql < %s\n' "$1"; else mysql -uroot <"$1" 2>/dev/null || mysql -u"$ADMIN_USER" -p"$ADMIN_PW" <"$1"; fi
}
# Checks for wait_for (functions, so that no password is on a command line of its own).
replica_caught_up() {
  [ "$(mysql -h "$PRIMARY_ADDR" -P "$PORT" -u"$ADMIN_USER" -p"$ADMIN_PW" -N -e 'SELECT @@gtid_binlog_pos')" = "$(mysql -uroot -N -e 'SELECT @@gtid_slave_pos')" ]
}
primary_stopped() { ! mysqladmin -h "$PRIMARY_ADDR" -P "$PORT" -u"$ADMIN_USER" -p"$ADMIN_PW" ping; }
qdevice_votes() { corosync-cmapctl -g runtime.votequorum.qdevice_can_operate | grep -q '= 1$'; }
install_exec() { # install_exec SRC DEST
  if [ -n "$DRY" ]; then printf '+ install -m 0755 %s %s\n' "$1" "$2"; else install -D -m 0755 "$1" "$2"; fi
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
  step "packages (the management host: MariaDB client, socat${MGMT_PKGS[*]:+, ${MGMT_PKGS[*]}})"
  run env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-client socat "${MGMT_PKGS[@]}"
  if [ "$QNETD" = "$HOST" ]; then
    step "corosync-qnetd, the third quorum vote (TLS off, as the profile's corosync.conf asks)"
    write /etc/default/corosync-qnetd <<<'COROSYNC_QNETD_OPTIONS="-s off"'
    run systemctl enable corosync-qnetd
    run systemctl restart corosync-qnetd
    wait_for "corosync-qnetd on $HOST to listen on 5403" 30 sh -c "ss -H -ltn 'sport = :5403' | grep -q ."
  fi
  step "done"
  exit 0
fi

if [ "$UNDER_PCMK" = true ] && [ -z "$DRY" ] && crm_mon -1 >/dev/null 2>&1; then
  echo "provision: $HOST is already a cluster node and Pacemaker manages its MariaDB: provisioning it again would start MariaDB outside Pacemaker; destroy and re-create the VMs instead (vagrant destroy -f && vagrant up)" >&2
  exit 1
fi

step "the profile's interface $NIC carries $(j ".hosts.\"$HOST\".address")"
run sh -c "ip -br addr show dev $NIC | grep -qw $(j ".hosts.\"$HOST\".address")"

step "packages: corosync 3, Pacemaker 2, crmsh, resource-agents, MariaDB; iptables for the partition and packet-loss faults${DB_PKGS[*]:+; for the profile: ${DB_PKGS[*]}}"
run env DEBIAN_FRONTEND=noninteractive apt-get update -qq
run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq corosync pacemaker pacemaker-cli-utils crmsh resource-agents mariadb-server mariadb-client iptables "${DB_PKGS[@]}"
if [ ${#AGENTS[@]} -gt 0 ]; then
  step "the profile's resource agents as ocf:mhc:TYPE: ${AGENTS[*]}"
  for a in "${AGENTS[@]}"; do install_exec "$PROFILE/ocf/$a" "/usr/lib/ocf/resource.d/mhc/$a"; done
fi

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
if [ "$ACCOUNTS_SQL" = true ]; then
  step "mysql/accounts.sql of the profile (what its resource agents need; replicated to the replica)"
  sql_file "$PROFILE/mysql/accounts.sql"
fi
fi

if [ "$HOST" = "$REPLICA" ]; then
  # Nothing is written on the replica before it replicates (gtid_strict_mode): the accounts come from $PRIMARY.
  step "replication $PRIMARY → $HOST with GTIDs (mysqlreplicate's job in the notebook)"
  wait_for "MariaDB on $PRIMARY ($PRIMARY_ADDR:$PORT)" 300 mysql -h "$PRIMARY_ADDR" -P "$PORT" -u"$RPL_USER" -p"$RPL_PW" -e 'SELECT 1'
  sql "STOP SLAVE; RESET SLAVE ALL; CHANGE MASTER TO master_host='$PRIMARY_ADDR', master_port=$PORT, master_user='$RPL_USER', master_password='$RPL_PW', master_use_gtid=slave_pos; SET GLOBAL read_only=ON; START SLAVE"
  wait_for "replication $PRIMARY → $HOST (IO and SQL threads)" 60 sh -c "mysql -uroot -e 'SHOW SLAVE STATUS\\G' | grep -q 'Slave_SQL_Running: Yes' && mysql -uroot -e 'SHOW SLAVE STATUS\\G' | grep -q 'Slave_IO_Running: Yes'"
fi

if [ "$UNDER_PCMK" = true ]; then
  # Pacemaker starts and stops MariaDB from now on (ocf:mhc:mariadb), never systemd.
  step "MariaDB handed to Pacemaker: its systemd unit disabled"
  run systemctl disable mariadb
  if [ "$HOST" = "$REPLICA" ]; then
    step "replica caught up, then both servers stopped before cluster.crm (the agent chooses the primary by GTID)"
    wait_for "$HOST to reach $PRIMARY's GTID position" 60 replica_caught_up
    run mysql -h "$PRIMARY_ADDR" -P "$PORT" -u"$ADMIN_USER" -p"$ADMIN_PW" -e SHUTDOWN
    wait_for "MariaDB on $PRIMARY to stop" 60 primary_stopped
    run systemctl stop mariadb
  fi
fi

if [ "$AT_BOOT" = true ]; then
  step "corosync.conf of the profile; ${STACK[*]} started at boot (a fenced node rejoins by itself), pacemaker Restart=$RESTART"
else
  step "corosync.conf of the profile; the stack is not started at boot and not respawned (as the notebook's SysV init)"
fi
put "$PROFILE/corosync.conf" /etc/corosync/corosync.conf
for u in "${STACK[@]}"; do
  r=no; [ "$u" != pacemaker ] || r=$RESTART
  write "/etc/systemd/system/$u.service.d/mhc.conf" <<<"[Service]
Restart=$r"
done
run systemctl daemon-reload
if [ "$AT_BOOT" = true ]; then run systemctl enable "${STACK[@]}"; else run systemctl disable "${STACK[@]}"; fi
step "start ${STACK[*]}"
run systemctl start corosync
wait_for "corosync on $HOST" 60 corosync-cmapctl -g runtime.votequorum.this_node_id
# Its vote is awaited below, once every db node is in (alone, with wait_for_all, it may not count yet).
[ -z "$QNETD" ] || run systemctl start corosync-qdevice
run systemctl start pacemaker
wait_for "pacemaker on $HOST to answer" 120 crm_mon -1

# The CIB is the cluster's: whichever db host finds every db node online applies cluster.crm
# (db2 on a first `vagrant up`; db1 when re-provisioned later).
step "cluster.crm with crmsh once ${DBS[*]} are online"
online() { crm_mon -1 | grep -E '^ *(\* )?Online:' | grep -qw "$1"; }
all_online() { for n in "${DBS[@]}"; do online "$n" || return 1; done; }
if [ -n "$DRY" ] || all_online; then
  wait_for "a DC to be elected" 120 sh -c "crm_mon -1 | grep -q 'Current DC: [a-z]'"
  [ -z "$QNETD" ] || wait_for "corosync-qdevice on $HOST to give its vote (qnetd on $QNETD)" 60 qdevice_votes
  run crm configure load update "$PROFILE/cluster.crm"
  wait_for "the VIP resource to start" 120 sh -c "crm_mon -1 | grep -E 'vip.*Started'"
  run crm_mon -1 -r  # the resources where they run; not `crm configure show`, which prints the params with their passwords
else
  step "not every db node is online yet: the last db host to come up applies cluster.crm"
fi
step "done"
