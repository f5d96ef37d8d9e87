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

/** A `primitive` statement split into its parts (crmPairs over all words would mix an op's interval into the params). */
export interface CrmPrimitive {
  id: string;
  agent: string;
  params: Record<string, string>;
  meta: Record<string, string>;
  ops: { name: string; attrs: Record<string, string> }[];
  line: number;
}

export function crmPrimitives(text: string): CrmPrimitive[] {
  return crmStatements(text)
    .filter((s) => s.words[0] === 'primitive')
    .map(parsePrimitive);
}

function parsePrimitive(s: CrmStatement): CrmPrimitive {
  const [, id = '', agent = '', ...rest] = s.words;
  const p: CrmPrimitive = { id, agent, params: {}, meta: {}, ops: [], line: s.line };
  // Pairs right after the agent are params (crmsh allows leaving out the keyword).
  let into: Record<string, string> = p.params;
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    if (w === 'params') into = p.params;
    else if (w === 'meta') into = p.meta;
    else if (w === 'utilization') into = {};
    else if (w === 'op') {
      const op = { name: rest[++i] ?? '', attrs: {} };
      p.ops.push(op);
      into = op.attrs;
    } else Object.assign(into, crmPairs([w]));
  }
  return p;
}

/** A clone (`clone ID CHILD meta …`, or the older `ms ID CHILD …`, which is always promotable). */
export interface CrmClone {
  id: string;
  child: string;
  meta: Record<string, string>;
  promotable: boolean;
  line: number;
}

/** A Pacemaker duration (3s, 500ms, 2min, or bare seconds) in ms; 0 when unreadable. */
export function pacemakerDurationMs(v: string): number {
  const m = v.match(/^(\d+)\s*(ms|s|sec|m|min|h)?$/);
  if (!m) return 0;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' || m[2] === 'min' ? n * 60_000 : m[2] === 'h' ? n * 3_600_000 : n * 1000;
}

/** A Pacemaker boolean (true, yes, on, 1). */
export const isTrue = (v?: string) => !!v && /^(true|yes|on|1)$/i.test(v);

export function crmClones(text: string): CrmClone[] {
  return crmStatements(text)
    .filter((s) => s.words[0] === 'clone' || s.words[0] === 'ms')
    .map((s) => {
      const meta = crmPairs(s.words.slice(3));
      return { id: s.words[1]!, child: s.words[2]!, meta, promotable: s.words[0] === 'ms' || isTrue(meta.promotable), line: s.line };
    });
}

/** MariaDB run by Pacemaker: a mariadb (or mysql) agent primitive inside a promotable clone. */
export interface PromotableMysql {
  clone: CrmClone;
  primitive: CrmPrimitive;
  /** The agent's node_list: the nodes it chooses a primary among. */
  nodeList: string[];
}

/**
 * The OCF provider of the agents a profile ships itself (profiles/NAME/ocf/): ocf:mhc:TYPE is
 * installed at /usr/lib/ocf/resource.d/mhc/TYPE on each host.
 */
export const PROFILE_OCF_PROVIDER = 'mhc';

export function findPromotableMysql(text: string): PromotableMysql | undefined {
  const prims = crmPrimitives(text).filter((p) => /^ocf:(heartbeat|mhc):(mariadb|mysql)$/.test(p.agent));
  for (const clone of crmClones(text)) {
    const primitive = prims.find((p) => p.id === clone.child);
    if (clone.promotable && primitive)
      return { clone, primitive, nodeList: (primitive.params.node_list ?? '').split(/\s+/).filter(Boolean) };
  }
  return undefined;
}

/** Fence devices: primitives of class stonith. */
export function crmStonithDevices(text: string): CrmPrimitive[] {
  return crmPrimitives(text).filter((p) => p.agent.startsWith('stonith:'));
}

/**
 * Whether `rsc` may run only where `clone` is promoted: `colocation ID inf: rsc clone:Promoted`
 * (Master is the role's older name). The harness relies on it to call the VIP holder the primary.
 */
export function colocatedWithPromoted(text: string, rsc: string, clone: string): boolean {
  return crmStatements(text).some((s) => {
    const [kind, , score, dependent, primary] = s.words;
    return (
      kind === 'colocation' &&
      /^(\+?inf|\+?infinity):$/i.test(score ?? '') &&
      dependent === rsc &&
      (primary === `${clone}:Promoted` || primary === `${clone}:Master`)
    );
  });
}

/** Statements that set values rather than define an object: an overlay adds to them, never replaces them. */
const SETTINGS = new Set(['property', 'rsc_defaults', 'op_defaults']);

/** Each statement's lines (0-based, end exclusive), from the comment block just above it. */
function statementSpans(text: string): { key: string | undefined; from: number; to: number }[] {
  const lines = text.split('\n');
  const continued = (i: number) =>
    lines[i]!.replace(/^\s*#.*$/, '')
      .trimEnd()
      .endsWith('\\');
  return crmStatements(text).map((s) => {
    let last = s.line - 1;
    while (last < lines.length - 1 && continued(last)) last++;
    let from = s.line - 1;
    while (from > 0 && /^\s*#/.test(lines[from - 1]!)) from--;
    const kind = s.words[0]!;
    return { key: SETTINGS.has(kind) ? undefined : `${kind} ${s.words[1]}`, from, to: last + 1 };
  });
}

/**
 * A profile's cluster.crm over its base's (profile.json "base"): each object the overlay defines
 * (by kind and id: `primitive fence-db1`) replaces the base's in place, with the comments above
 * it; the overlay's other statements (new objects, properties) come after the base's text.
 */
export function overlayCrm(base: string, overlay: string): string {
  const baseLines = base.split('\n');
  const overLines = overlay.split('\n');
  const replacements = new Map<string, string[]>();
  const appended: string[] = [];
  const baseSpans = statementSpans(base);
  for (const o of statementSpans(overlay)) {
    const text = overLines.slice(o.from, o.to);
    if (o.key && baseSpans.some((b) => b.key === o.key)) replacements.set(o.key, text);
    else appended.push(...text);
  }
  const out: string[] = [];
  let at = 0;
  for (const b of baseSpans) {
    const r = b.key ? replacements.get(b.key) : undefined;
    if (!r) continue;
    out.push(...baseLines.slice(at, b.from), ...r);
    at = b.to;
  }
  out.push(...baseLines.slice(at));
  return appended.length ? `${out.join('\n').trimEnd()}\n\n${appended.join('\n')}\n` : out.join('\n');
}
