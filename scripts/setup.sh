#!/usr/bin/env bash
# Idempotent set-up of a Debian 12 box for the harness: apt packages (only if missing), then
# npm ci (only if node_modules is older than package-lock.json). Run as root.
# MHC_SKIP_SETUP=1 skips it (e.g. a machine prepared another way).
set -euo pipefail
[ "${MHC_SKIP_SETUP:-}" = 1 ] && exit 0
cd "$(dirname "$0")/.."

PKGS=(pacemaker pacemaker-cli-utils corosync crmsh resource-agents mariadb-server mariadb-client
      openssh-server openssh-client socat tini iproute2 procps util-linux gzip
      iptables  # the partition and packet-loss faults (lib/faults/partition.ts, degraded-network.ts) run it inside the lab's hosts
      chromium  # headless browser for the report test (test/integration/report.test.ts)
      ruby jq   # ruby, jq: the Vagrantfile and provisioning checks (test/unit/vagrant.test.ts)
      docker.io debootstrap)  # the containers target: dockerd (run in a netns of its own), the node image's build
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing packages: ${missing[*]} — run as root, or: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  # Packages must not start their daemons in this machine's own namespaces: the lab starts them
  # inside its hosts. policy-rc.d tells invoke-rc.d to leave services alone during the install.
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  trap '[ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d' EXIT
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
