import type { Target } from '../targets/target.js';
import type { ConnectOptions, ServerFacts } from './server.js';
import { factsOf, readTopology, type Topology } from './topology.js';

/** mysqlrplshow: the topology as a small tree, primary first. */
export async function showTopology(t: Target, opts: ConnectOptions = {}): Promise<{ topology: Topology; text: string }> {
  const topology = await readTopology(t, opts);
  return { topology, text: formatTopology(topology) };
}

const describe = (f: ServerFacts) =>
  `${f.host} (${f.address}) ${f.version}, server_id ${f.serverId}, ${f.readOnly ? 'read_only' : 'writable'}, gtid ${f.gtid || '(empty)'}`;

export function formatTopology(topo: Topology): string {
  const lines: string[] = [];
  const roots = topo.servers.filter((s) => !topo.channels.some((c) => c.replica === s.host));
  const seen = new Set<string>();
  const walk = (host: string, depth: number) => {
    if (seen.has(host)) return;
    seen.add(host);
    const s = topo.servers.find((x) => x.host === host);
    const f = factsOf(topo, host);
    const pre = depth ? `${'   '.repeat(depth - 1)}└─ ` : '';
    if (!f) lines.push(`${pre}${host}: unreachable — ${s?.error?.split('\n')[0] ?? 'unknown'}`);
    else {
      const r = f.replica;
      lines.push(
        `${pre}${describe(f)}${r ? ` — replica of ${r.sourceHost}: io=${r.ioRunning} sql=${r.sqlRunning} lag=${r.secondsBehind ?? '?'}${r.usingGtid ? '' : ' (not GTID)'}` : ''}`,
      );
    }
    for (const c of topo.channels.filter((x) => x.source === host)) walk(c.replica, depth + 1);
  };
  for (const r of roots) walk(r.host, 0);
  for (const s of topo.servers) if (!seen.has(s.host)) walk(s.host, 0); // a replication cycle has no root
  return lines.join('\n');
}
