/** The nodelist of a corosync.conf (corosync 3 syntax), to check it against the profile's hosts. */
export interface CorosyncNode {
  name?: string;
  nodeid?: number;
  ring0_addr?: string;
  /** Every ringN_addr of the node by link number (knet: one address per link). */
  rings: Record<number, string>;
}

/** Each `key: value` of the file with the sections it sits in (outermost first). */
function* entries(text: string): Generator<{ path: string[]; key: string; value: string } | { path: string[]; close: string }> {
  const stack: string[] = [];
  for (const raw of text.split('\n')) {
    const l = raw.replace(/#.*$/, '').trim();
    if (!l) continue;
    const open = l.match(/^(\w+)\s*\{$/);
    if (open) {
      stack.push(open[1]!);
      continue;
    }
    if (l === '}') {
      const closed = stack.pop();
      if (closed) yield { path: [...stack], close: closed };
      continue;
    }
    const kv = l.match(/^(\w+)\s*:\s*(.+)$/);
    if (kv) yield { path: [...stack], key: kv[1]!, value: kv[2]!.trim() };
  }
}

export function corosyncNodes(text: string): CorosyncNode[] {
  const nodes: CorosyncNode[] = [];
  let cur: CorosyncNode = { rings: {} };
  for (const e of entries(text)) {
    const inNode = e.path.join('.') === 'nodelist.node';
    if ('close' in e) {
      if (e.close === 'node' && e.path.join('.') === 'nodelist') {
        nodes.push(cur);
        cur = { rings: {} };
      }
      continue;
    }
    if (!inNode) continue;
    if (e.key === 'name') cur.name = e.value;
    if (e.key === 'nodeid') cur.nodeid = Number(e.value);
    const ring = e.key.match(/^ring(\d+)_addr$/);
    if (ring) cur.rings[Number(ring[1])] = e.value;
    if (e.key === 'ring0_addr') cur.ring0_addr = e.value;
  }
  return nodes;
}

/** corosync's port when totem.interface has no mcastport (exec/totemconfig.c DEFAULT_PORT). */
export const COROSYNC_DEFAULT_PORT = 5405;

/** One corosync link (knet) or ring (udp/udpu): the UDP ports its traffic goes to, and each node's address on it. */
export interface CorosyncLink {
  link: number;
  ports: number[];
  /** node name → address on this link */
  addrs: Record<string, string>;
}

/**
 * The links of a corosync.conf and the UDP ports each uses. knet: link N listens on its
 * interface's mcastport, else 5405 + N (corosync 3's totemconfig.c); udp/udpu: mcastport (default
 * 5405) and mcastport − 1, which corosync.conf(5) says it sends from.
 */
export function corosyncLinks(text: string): CorosyncLink[] {
  let transport = 'knet';
  const explicit = new Map<number, number>();
  let iface: { link?: number; port?: number } = {};
  for (const e of entries(text)) {
    if (!('close' in e) && e.path.join('.') === 'totem' && e.key === 'transport') transport = e.value;
    if ('close' in e) {
      if (e.close === 'interface' && e.path.join('.') === 'totem') {
        if (iface.port !== undefined) explicit.set(iface.link ?? 0, iface.port);
        iface = {};
      }
      continue;
    }
    if (e.path.join('.') !== 'totem.interface') continue;
    if (e.key === 'linknumber' || e.key === 'ringnumber') iface.link = Number(e.value);
    if (e.key === 'mcastport') iface.port = Number(e.value);
  }
  const nodes = corosyncNodes(text);
  const links = [...new Set(nodes.flatMap((n) => Object.keys(n.rings).map(Number)))].sort((a, b) => a - b);
  return links.map((link) => {
    const base = explicit.get(link) ?? (transport === 'knet' ? COROSYNC_DEFAULT_PORT + link : COROSYNC_DEFAULT_PORT);
    const addrs = Object.fromEntries(nodes.flatMap((n) => (n.name && n.rings[link] ? [[n.name, n.rings[link]!]] : [])));
    return { link, ports: transport === 'knet' ? [base] : [base, base - 1], addrs };
  });
}

/** A `section { key: value }` lookup, e.g. totem.token. */
export function corosyncValue(text: string, section: string, key: string): string | undefined {
  const m = text.match(new RegExp(`${section}\\s*\\{([^}]*)\\}`, 's'));
  const kv = m?.[1]?.match(new RegExp(`^\\s*${key}\\s*:\\s*(\\S+)`, 'm'));
  return kv?.[1];
}
