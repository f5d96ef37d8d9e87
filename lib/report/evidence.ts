import { replicationState } from '../probes/replication.js';
import type { Target } from '../targets/target.js';
import { redact } from '../util/redact.js';

/** One piece of evidence for a report: already redacted. */
export interface Evidence {
  name: string;
  content: string;
  contentType: 'text/plain' | 'application/xml' | 'application/json';
  fileExtension: 'txt' | 'xml' | 'json';
}

/**
 * The logs read for evidence. Pacemaker's log is mostly info lines (a second of a failover fills a
 * hundred): only its notice-and-worse lines are read, so the tail spans the case, not its last
 * second (found when a host's Pacemaker stopped itself during a recovery and the 150 raw lines
 * kept showed none of it). corosync's log is sparse: read whole.
 */
export const LOG_FILES = [
  { path: '/var/log/pacemaker/pacemaker.log', notable: "grep -E '[[:space:]](notice|warning|error|crit): '" },
  { path: '/var/log/corosync/corosync.log' },
];

/** The command that gives the last `lines` lines of a log (of its notable lines where it has a filter). */
export const logTail = (f: (typeof LOG_FILES)[number], lines: number): string[] =>
  f.notable ? ['sh', '-c', `${f.notable} '${f.path}' | tail -n ${lines}`] : ['tail', '-n', String(lines), f.path];

export interface EvidenceOptions {
  /** Also the last `logLines` lines of Pacemaker's and corosync's logs (default: no logs). */
  logLines?: number;
  /** Per command bound (default 10 s). */
  timeoutMs?: number;
}

/**
 * What a person reading a failed case wants to see, read from every db host at one moment:
 * crm_mon (XML and text), `ip addr`, replication status, and optionally the tail of Pacemaker's and
 * corosync's logs. Collection never throws: a command that fails becomes evidence of the failure.
 * Everything passes through redact().
 */
export async function collectEvidence(t: Target, label: string, o: EvidenceOptions = {}): Promise<Evidence[]> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const hosts = t.profile.dbHosts.map((h) => h.name);
  const run = async (host: string, argv: string[]) => {
    try {
      const r = await t.exec(host, argv, { check: false, timeoutMs });
      return r.stdout + (r.exitCode !== 0 ? `\n[exit ${r.exitCode}] ${r.stderr}` : '');
    } catch (e) {
      return `[${argv.join(' ')} failed on ${host}: ${(e as Error).message}]`;
    }
  };
  const out: Evidence[] = [];
  const txt = (name: string, content: string): Evidence => ({
    name,
    content: redact(content),
    contentType: 'text/plain',
    fileExtension: 'txt',
  });
  const perHost = await Promise.all(
    hosts.map(async (host) => {
      const [xml, text, ip, logs] = await Promise.all([
        run(host, ['crm_mon', '--one-shot', '--inactive', '--include=bans', '--output-as=xml']),
        run(host, ['crm_mon', '--one-shot', '--inactive', '--include=bans', '--show-node-attributes']),
        run(host, ['ip', 'addr']),
        o.logLines
          ? Promise.all(LOG_FILES.map((f) => run(host, logTail(f, o.logLines!)).then((c) => [f, c] as const)))
          : Promise.resolve([]),
      ]);
      return { host, xml, text, ip, logs };
    }),
  );
  for (const h of perHost) {
    out.push({
      name: `${label}: crm_mon on ${h.host} (XML)`,
      content: redact(h.xml),
      contentType: 'application/xml',
      fileExtension: 'xml',
    });
    out.push(txt(`${label}: crm_mon on ${h.host}`, h.text));
    out.push(txt(`${label}: ip addr on ${h.host}`, h.ip));
  }
  try {
    const rs = await replicationState(t, Math.min(timeoutMs, 5_000));
    out.push({
      name: `${label}: replication status`,
      content: redact(JSON.stringify(rs, null, 2)),
      contentType: 'application/json',
      fileExtension: 'json',
    });
  } catch (e) {
    out.push(txt(`${label}: replication status`, `could not read: ${(e as Error).message}`));
  }
  for (const h of perHost)
    for (const [f, c] of h.logs)
      out.push(txt(`${label}: ${f.path} on ${h.host} (last ${o.logLines} ${f.notable ? 'notice-or-worse ' : ''}lines)`, c));
  return out;
}
