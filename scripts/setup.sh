#!/usr/bin/env bash
# Idempotent set-up of a Debian 12 or Ubuntu 24.04 box for the harness: apt packages (only if
# missing), then npm ci (only if node_modules is older than package-lock.json). Run as root, or as a
# user with passwordless sudo (GitHub's ubuntu-24.04 runner).
# MHC_SKIP_SETUP=1 skips it (e.g. a machine prepared another way).
# --print-packages prints the packages this system needs, one a line, and installs nothing;
# MHC_OS_RELEASE=FILE reads another os-release than /etc/os-release (the unit tests feed it both).
set -euo pipefail
cd "$(dirname "$0")/.."

OS_RELEASE=${MHC_OS_RELEASE:-/etc/os-release}
[ -n "${MHC_OS_RELEASE:-}" ] || [ -e "$OS_RELEASE" ] || OS_RELEASE=/usr/lib/os-release

# One field of an os-release file, read rather than sourced (it is data, not a script).
os_field() {
  local k v
  [ -r "$2" ] || return 0
  while IFS='=' read -r k v || [ -n "$k" ]; do
    [ "$k" = "$1" ] || continue
    v=${v#[\"\']}
    v=${v%[\"\']}
    printf '%s\n' "$v"
    return 0
  done <"$2"
}

# The packages the harness needs on this system, one a line; unsupported systems: one line, exit 1.
packages_for() {
  local id version resource_agents fence_agents browser=() keyring=()
  if [ ! -r "$1" ]; then
    echo "setup: cannot read $1 to tell which system this is; setup.sh knows Debian 12 and Ubuntu 24.04" >&2
    return 1
  fi
  id=$(os_field ID "$1")
  version=$(os_field VERSION_ID "$1")
  case "$id $version" in
    "debian 12")
      resource_agents=resource-agents
      fence_agents=fence-agents
      browser=(chromium) # headless browser for the report test (test/integration/report.test.ts)
      ;;
    "ubuntu 24.04")
      # Ubuntu splits resource-agents: -base has IPaddr2, the only agent the profiles use.
      resource_agents=resource-agents-base
      fence_agents=fence-agents-base # Ubuntu splits fence-agents too: -base has fence_ipmilan
      # No chromium: Ubuntu's deb is a snap shim, which cannot install in a container (GitHub's
      # runner has /usr/bin/chromium). debootstrap needs Debian's keys to build the node image.
      keyring=(debian-archive-keyring)
      ;;
    *)
      echo "setup: unsupported system \"$(os_field PRETTY_NAME "$1")\" (ID=${id:-?} VERSION_ID=${version:-?} in $1): setup.sh knows Debian 12 and Ubuntu 24.04; install the packages yourself and set MHC_SKIP_SETUP=1" >&2
      return 1
      ;;
  esac
  local pkgs=(pacemaker pacemaker-cli-utils corosync crmsh
    corosync-qdevice corosync-qnetd # the hardened profile: a third quorum vote, qnetd on batch1 (profiles/hardened/corosync.conf)
    "$fence_agents" ipmitool python3-pyghmi # the hardened-ipmi profile: fence_ipmilan against the lab's BMCs (lib/fencing/lab-bmc.py)
    "$resource_agents" mariadb-server mariadb-client
    openssh-server openssh-client socat tini iproute2 procps util-linux gzip
    iptables # the partition and packet-loss faults (lib/faults/partition.ts, degraded-network.ts) run it inside the lab's hosts
    "${browser[@]}"
    ruby jq               # ruby, jq: the Vagrantfile and provisioning checks (test/unit/vagrant.test.ts)
    docker.io debootstrap # the containers target: dockerd (run in a netns of its own), the node image's build
    "${keyring[@]}")
  printf '%s\n' "${pkgs[@]}"
}

case "${1:-}" in
  --print-packages)
    packages_for "$OS_RELEASE"
    exit
    ;;
  "") ;;
  *)
    echo "usage: bash scripts/setup.sh [--print-packages]" >&2
    exit 2
    ;;
esac
[ "${MHC_SKIP_SETUP:-}" = 1 ] && exit 0

pkgs=$(packages_for "$OS_RELEASE")
has() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
# A binary the machine already has stands in for a package: GitHub's runner has Docker CE, whose
# containerd.io conflicts with docker.io, and Chrome plus a Chromium build outside apt. For Docker
# only the engine counts: a machine with the docker client alone (/usr/local/bin/docker, no
# dockerd) still needs docker.io, or the containers target has no engine to start.
stand_ins() {
  case "$1" in
    docker.io) echo dockerd ;;
    chromium) echo chromium chromium-browser google-chrome ;;
  esac
}
missing=()
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" && continue
  for b in $(stand_ins "$p"); do has "$b" && continue 2; done
  missing+=("$p")
done
if [ "$(os_field ID "$OS_RELEASE")" = ubuntu ] && [ ! -x /usr/bin/chromium ]; then
  echo "setup: note: no /usr/bin/chromium (test/integration/report.test.ts opens the report with it); Ubuntu's chromium deb is a snap shim, so install a Chromium build there yourself" >&2
fi
if [ ${#missing[@]} -gt 0 ]; then
  # MariaDB's packages replace MySQL's (GitHub's runner has MySQL 8): apt would remove them.
  if [[ " ${missing[*]} " == *" mariadb-"* ]] && { { has mysqld && ! has mariadbd; } || { has mysql && ! has mariadb; }; }; then
    echo "setup: missing packages: ${missing[*]} — mariadb-server and mariadb-client would replace this machine's MySQL, and setup.sh removes no package: remove MySQL first (apt-get purge 'mysql-server*' 'mysql-client*'), or run in a Debian 12 container" >&2
    exit 1
  fi
  sudo=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      echo "setup: missing packages: ${missing[*]} — run as root (or with passwordless sudo), or: apt-get install -y ${missing[*]}" >&2
      exit 1
    fi
  fi
  echo "setup: installing ${missing[*]}"
  # Packages must not start their daemons in this machine's own namespaces: the lab starts them
  # inside its hosts. policy-rc.d tells invoke-rc.d to leave services alone during the install.
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null && "${sudo[@]}" chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  trap '[ -n "$made_policy" ] && "${sudo[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
  # --no-remove: a package that conflicts with one the machine has fails the install instead of
  # removing the other (never a runner's packages).
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --no-remove "${missing[@]}" >/dev/null
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
