/** The nodelist of a corosync.conf (corosync 3 syntax), to check it against the profile's hosts. */
export interface CorosyncNode {
  name?: string;
  nodeid?: number;
  ring0_addr?: string;
}

export function corosyncNodes(text: string): CorosyncNode[] {
  const nodes: CorosyncNode[] = [];
  const stack: string[] = [];
  let cur: CorosyncNode | undefined;
  for (const raw of text.split('\n')) {
    const l = raw.replace(/#.*$/, '').trim();
    if (!l) continue;
    const open = l.match(/^(\w+)\s*\{$/);
    if (open) {
      stack.push(open[1]!);
      if (open[1] === 'node' && stack.at(-2) === 'nodelist') cur = {};
      continue;
    }
    if (l === '}') {
      if (stack.pop() === 'node' && cur) {
        nodes.push(cur);
        cur = undefined;
      }
      continue;
    }
    const kv = l.match(/^(\w+)\s*:\s*(.+)$/);
    if (kv && cur) {
      if (kv[1] === 'name') cur.name = kv[2];
      if (kv[1] === 'nodeid') cur.nodeid = Number(kv[2]);
      if (kv[1] === 'ring0_addr') cur.ring0_addr = kv[2];
    }
  }
  return nodes;
}

/** A `section { key: value }` lookup, e.g. totem.token. */
export function corosyncValue(text: string, section: string, key: string): string | undefined {
  const m = text.match(new RegExp(`${section}\\s*\\{([^}]*)\\}`, 's'));
  const kv = m?.[1]?.match(new RegExp(`^\\s*${key}\\s*:\\s*(\\S+)`, 'm'));
  return kv?.[1];
}
