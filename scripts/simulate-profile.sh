#!/bin/bash
# What Pacemaker's scheduler would do with a profile's cluster.crm, without a cluster: crmsh loads
# the file into a CIB file (CIB_file), then crm_simulate plays a few situations on it and prints
# each transition summary. Nothing is started and no cluster is contacted.
#
#   scripts/simulate-profile.sh profiles/hardened
#
# Needs crmsh, pacemaker-cli-utils and python3. crmsh checks fence device parameters against the
# agent's meta-data, which it finds only in /usr/sbin: without /usr/sbin/fence_mhc the devices are
# loaded as fence_watchdog without their fence_mhc parameters (the scheduler does not run agents,
# so the transitions are the same), and the script says so.
#
# The promotion score the mariadb agent sets (master-<primitive>) is a node attribute a simulation
# does not produce: the script sets it where the agent would (on the first node at start, on the
# survivor after a loss), and says so in each heading.
set -euo pipefail
profile=${1:?usage: $0 PROFILE_DIR}
crm_file=$(realpath "$profile/cluster.crm")
work=$(mktemp -d /tmp/mhc-simulate.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

cp "$crm_file" cluster.crm
if [ ! -x /usr/sbin/fence_mhc ]; then
  echo "(no /usr/sbin/fence_mhc: fence devices loaded as fence_watchdog, without socket/power_timeout)"
  sed -i -e 's/stonith:fence_mhc/stonith:fence_watchdog/' -e 's/ socket=[^ ]*//; s/ power_timeout=[^ ]*//' cluster.crm
fi
for agent in "$(dirname "$crm_file")"/ocf/*; do
  [ -e "$agent" ] || continue
  if [ ! -x "/usr/lib/ocf/resource.d/mhc/$(basename "$agent")" ]; then
    echo "(no /usr/lib/ocf/resource.d/mhc/$(basename "$agent"): loaded as ocf:heartbeat:$(basename "$agent"), whose parameters it shares)"
    sed -i "s/ocf:mhc:$(basename "$agent")/ocf:heartbeat:$(basename "$agent")/" cluster.crm
  fi
done
cibadmin --empty >cib.xml
CIB_file=$work/cib.xml crm configure load update cluster.crm >load.log 2>&1 || true
if grep -q '^ERROR\|ERROR:' load.log; then
  cat load.log >&2
  exit 1
fi
primitive=$(grep -oE '<primitive id="[^"]*" class="ocf" provider="(heartbeat|mhc)" type="mariadb"' cib.xml | sed 's/<primitive id="\([^"]*\)".*/\1/')
score="master-${primitive:?no mariadb primitive in $crm_file}"

# edit FILE OUT [node:attr=value|node:attr=]... [+id,rsc,node,score|-id]...  (python: XML in, XML out)
edit() {
  /usr/bin/python3 - "$@" <<'PY'
import sys, xml.etree.ElementTree as ET
src, dst, *specs = sys.argv[1:]
t = ET.parse(src); root = t.getroot(); cons = root.find('configuration/constraints')
for s in specs:
    if s[0] in '+-':
        if s[0] == '-':
            for x in [x for x in cons if x.get('id') == s[1:]]: cons.remove(x)
        else:
            i, rsc, node, score = s[1:].split(','); ET.SubElement(cons, 'rsc_location', id=i, rsc=rsc, node=node, score=score)
        continue
    (node, name), value = s.split('=', 1)[0].split(':'), s.split('=', 1)[1]
    ns = next(n for n in root.find('status') if n.get('uname') == node)
    ta = ns.find('transient_attributes')  # (an Element without children is falsy: no `or` here)
    if ta is None: ta = ET.SubElement(ns, 'transient_attributes', id=ns.get('id'))
    ia = ta.find('instance_attributes')
    if ia is None: ia = ET.SubElement(ta, 'instance_attributes', id='status-' + ns.get('id'))
    for nv in [nv for nv in ia if nv.get('name') == name]: ia.remove(nv)
    if value: ET.SubElement(ia, 'nvpair', id='status-%s-%s' % (ns.get('id'), name), name=name, value=value)
t.write(dst)
PY
}
sim() { crm_simulate -x "$1" -S -O "$2" "${@:3}" 2>&1 | sed -n '/Transition Summary/,/Executing/p' | grep -v '^\s*$\|Executing' || true; }

nodes=$(grep -o '<node id="[^"]*" uname="[^"]*"' cib.xml | sed 's/.*uname="\([^"]*\)"/\1/')
first=$(echo "$nodes" | head -1)
second=$(echo "$nodes" | sed -n 2p)
sim cib.xml up.xml $(for n in $nodes; do echo -u "$n"; done) -q true >/dev/null
sim up.xml started.xml >/dev/null
edit started.xml scored.xml "$first:$score=100"
sim scored.xml s1.xml >/dev/null
sim s1.xml base.xml >/dev/null
echo "== steady state ($score=100 on $first, as the agent sets it at first start)"
crm_simulate -x base.xml 2>&1 | sed -n '/Full List of Resources/,$p'

echo "== crm resource move vip $second force (cli-prefer on $second, cli-ban on $first)"
edit base.xml a.xml "+cli-prefer-vip,vip,$second,INFINITY" "+cli-ban-vip-on-$first,vip,$first,-INFINITY"
sim a.xml a1.xml
echo "== promotion scores swapped ($score=100 on $second, deleted on $first)"
edit base.xml b.xml "$second:$score=100" "$first:$score="
sim b.xml b1.xml
echo "== $first lost (unclean: corosync gone, link down)"
sim base.xml c.xml -f "$first"
echo "== then $second's Unpromoted monitor sets $score=100"
edit c.xml c1.xml "$second:$score=100"
sim c1.xml c2.xml
echo "== $first's controller gone while $first stays a member"
/usr/bin/python3 -c "import sys,re;s=open('base.xml').read();open('d.xml','w').write(re.sub(r'(<node_state id=\"[^\"]*\" uname=\"$first\"[^>]*?)crmd=\"online\"',r'\1crmd=\"offline\"',s))"
sim d.xml d1.xml
echo "== clean shutdown of $first (service pacemaker stop)"
edit base.xml e.xml "$first:shutdown=1700000000"
sim e.xml e1.xml
echo "== quorum lost"
sed 's/have-quorum="[^"]*"/have-quorum="0"/' base.xml >f.xml
sim f.xml f1.xml
# A profile's probe for a primary that cannot commit (profiles/hardened: p_diskwait, on-fail=fence):
# its monitor failing on the primary must fence the primary.
probe=$(grep -oE '<primitive id="[^"]*" class="ocf" provider="(heartbeat|mhc)" type="mariadb-diskwait"' cib.xml | sed 's/<primitive id="\([^"]*\)".*/\1/' || true)
if [ -n "$probe" ]; then
  interval=$(grep -A20 "<primitive id=\"$probe\"" cib.xml | grep -oE 'name="monitor" interval="[0-9]+s?"' | head -1 | grep -oE '[0-9]+' | head -1)
  : "${interval:?no monitor interval (in seconds) for $probe in $crm_file}"
  echo "== $probe's monitor fails on $first (MariaDB waits for disk space)"
  sim base.xml g.xml -i "${probe}_monitor_$((interval * 1000))@$first=1"
fi
