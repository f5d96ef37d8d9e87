/**
 * Just enough of crm shell syntax to find what the harness must know (the VIP primitive and
 * cluster properties). Pacemaker itself validates the configuration when the lab applies it.
 */
export interface CrmStatement {
  line: number; // 1-based line in the file where the statement starts
  words: string[];
}

export function crmStatements(text: string): CrmStatement[] {
  const out: CrmStatement[] = [];
  const lines = text.split('\n');
  let buf = '';
  let start = 0;
  lines.forEach((raw, i) => {
    const l = raw.replace(/^\s*#.*$/, '');
    if (!buf) start = i + 1;
    if (l.trimEnd().endsWith('\\')) {
      buf += `${l.trimEnd().slice(0, -1)} `;
      return;
    }
    buf += l;
    if (buf.trim()) out.push({ line: start, words: splitWords(buf.trim()) });
    buf = '';
  });
  return out;
}

function splitWords(s: string): string[] {
  return [...s.matchAll(/(?:[^\s"]+|"[^"]*")+/g)].map((m) => m[0].replace(/"/g, ''));
}

/** name=value pairs of a statement (params, meta, property). */
export function crmPairs(words: string[]): Record<string, string> {
  const r: Record<string, string> = {};
  for (const w of words) {
    const i = w.indexOf('=');
    if (i > 0) r[w.slice(0, i)] = w.slice(i + 1);
  }
  return r;
}

export interface VipPrimitive {
  id: string;
  ip: string;
  cidrNetmask: number;
  nic: string;
  line: number;
}

export function findVipPrimitive(text: string): VipPrimitive | undefined {
  for (const s of crmStatements(text)) {
    if (s.words[0] === 'primitive' && s.words[2] === 'ocf:heartbeat:IPaddr2') {
      const p = crmPairs(s.words);
      if (!p.ip) continue;
      return { id: s.words[1]!, ip: p.ip, cidrNetmask: Number(p.cidr_netmask ?? 32), nic: p.nic ?? '', line: s.line };
    }
  }
  return undefined;
}

/** Cluster properties set by `property` statements. */
export function crmProperties(text: string): Record<string, string> {
  const r: Record<string, string> = {};
  for (const s of crmStatements(text)) if (s.words[0] === 'property') Object.assign(r, crmPairs(s.words));
  return r;
}
