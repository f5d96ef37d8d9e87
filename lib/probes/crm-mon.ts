// biome-ignore-all lint/suspicious/noExplicitAny: crm_mon and cibadmin XML is parsed untyped and mapped field by field into typed views here
import { XMLParser } from 'fast-xml-parser';

/** What `crm_mon --output-as=xml` says about the cluster, from one node's point of view. */
export interface CrmMonView {
  dc?: string;
  /** pacemakerd's own state on the node asked (running, shutting_down, …); absent when it does not answer. */
  pacemakerdState?: string;
  withQuorum: boolean;
  nodes: { name: string; id: string; online: boolean; standby: boolean; unclean: boolean; pending: boolean }[];
  resources: {
    id: string;
    agent: string;
    role: string;
    active: boolean;
    failed: boolean;
    blocked: boolean;
    managed: boolean;
    runningOn: string[];
  }[];
  failures: {
    opKey: string;
    node: string;
    task: string;
    exitStatus: string;
    exitReason: string;
    exitCode: number;
    status: string;
    lastRcChange?: string;
  }[];
  bans: { id: string; resource: string; node: string; weight: number }[];
}

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  isArray: (name, _path, _leaf, isAttribute) => !isAttribute && ['node', 'resource', 'failure', 'ban', 'clone', 'group'].includes(name),
});

const bool = (v: unknown) => v === 'true' || v === true;

export function parseCrmMonXml(text: string): CrmMonView {
  const doc = xml.parse(text);
  const root = doc['pacemaker-result'] ?? doc.crm_mon;
  if (!root) throw new Error('not crm_mon XML output (no <pacemaker-result>)');
  const dc = root.summary?.current_dc;
  // Resources may sit at top level or inside groups/clones; flatten them.
  const rawResources: any[] = [];
  const collect = (r: any) => {
    for (const x of r?.resource ?? []) rawResources.push(x);
    for (const g of r?.group ?? []) collect(g);
    for (const c of r?.clone ?? []) collect(c);
  };
  collect(root.resources);
  return {
    dc: bool(dc?.present) ? dc.name : undefined,
    pacemakerdState: root.pacemakerd?.state,
    withQuorum: bool(dc?.with_quorum),
    nodes: (root.nodes?.node ?? []).map((n: any) => ({
      name: n.name,
      id: String(n.id),
      online: bool(n.online),
      standby: bool(n.standby),
      unclean: bool(n.unclean),
      pending: bool(n.pending),
    })),
    resources: rawResources.map((r) => ({
      id: r.id,
      agent: r.resource_agent,
      role: r.role,
      active: bool(r.active),
      failed: bool(r.failed),
      blocked: bool(r.blocked),
      managed: bool(r.managed),
      runningOn: (r.node ?? []).map((n: any) => n.name),
    })),
    failures: (root.failures?.failure ?? []).map((f: any) => ({
      opKey: f.op_key,
      node: f.node,
      task: f.task,
      exitStatus: f.exitstatus,
      exitReason: f.exitreason ?? '',
      exitCode: Number(f.exitcode),
      status: f.status,
      lastRcChange: f['last-rc-change'],
    })),
    bans: (root.bans?.ban ?? []).map((b: any) => ({ id: b.id, resource: b.resource, node: b.node, weight: Number(b.weight) })),
  };
}

/** Location constraints from `cibadmin --query --scope constraints` (crm_mon shows only bans). */
export interface LocationConstraint {
  id: string;
  resource: string;
  node?: string;
  score: string;
  /** crm resource move/ban/clear make these: cli-prefer-*, cli-ban-*. */
  cli: boolean;
}

export function parseConstraintsXml(text: string): LocationConstraint[] {
  const doc = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    isArray: (n, _p, _l, isAttribute) => !isAttribute && n === 'rsc_location',
  }).parse(text);
  const cons = doc.constraints ?? doc.cib?.configuration?.constraints ?? {};
  return (cons.rsc_location ?? []).map((l: any) => ({
    id: l.id,
    resource: l.rsc,
    node: l.node,
    score: String(l.score ?? l['score-attribute'] ?? ''),
    cli: /^cli-(prefer|ban)-/.test(l.id),
  }));
}
