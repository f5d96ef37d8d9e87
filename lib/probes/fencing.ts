// biome-ignore-all lint/suspicious/noExplicitAny: stonith_admin's XML is parsed untyped and mapped field by field into a typed view here
import { XMLParser } from 'fast-xml-parser';
import type { Target } from '../targets/target.js';

/** One fencing operation as Pacemaker's fencer records it (`stonith_admin --history '*' --verbose --output-as=xml`). */
export interface FenceOperation {
  /** The node fenced. */
  target: string;
  /** reboot, off or on. */
  action: string;
  /** success, failed or pending. */
  status: string;
  /** The node whose fencer asked for it (origin), and the one whose device carried it out (delegate). */
  origin?: string;
  delegate?: string;
  /** Who asked: pacemaker-controld, or stonith_admin for a fence by hand. */
  client?: string;
  /** When it completed, ms since the epoch (the fencer records whole seconds); absent while pending. */
  completedAt?: number;
  exitReason?: string;
}

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'fence_event' });

/** Pacemaker 2.1 writes completed="2026-11-28 13:40:25Z" (UTC, whole seconds). */
function completedMs(v: unknown): number | undefined {
  if (typeof v !== 'string' || !v) return undefined;
  const ms = Date.parse(v.replace(' ', 'T'));
  return Number.isNaN(ms) ? undefined : ms;
}

export function parseFenceHistory(text: string): FenceOperation[] {
  const doc = xml.parse(text) as any;
  const events: any[] = doc?.['pacemaker-result']?.list?.fence_event ?? [];
  return events.map((e) => ({
    target: String(e.target ?? ''),
    action: String(e.action ?? ''),
    status: String(e.status ?? ''),
    origin: e.origin,
    delegate: e.delegate,
    client: e.client,
    completedAt: completedMs(e.completed),
    exitReason: e['exit-reason'],
  }));
}

/**
 * The cluster's fencing history, asked of the db hosts in turn until one answers (a fenced host
 * may be down); undefined when none does. Each fencer keeps the whole cluster's history.
 */
export async function fenceHistory(t: Target): Promise<FenceOperation[] | undefined> {
  for (const h of t.profile.dbHosts) {
    // --verbose: without it stonith_admin lists only the last successful operation per node, not the failed ones.
    const r = await t.exec(h.name, ['stonith_admin', '--history', '*', '--verbose', '--output-as=xml'], {
      check: false,
      timeoutMs: 10_000,
    });
    if (r.exitCode === 0) return parseFenceHistory(r.stdout);
  }
  return undefined;
}

/** "db1 fenced (reboot) by db2" / "fencing of db1 (reboot) by db2 failed: …" for what was seen. */
export function describeFence(f: FenceOperation): string {
  const by = f.delegate ?? f.origin;
  const what = `${f.target} (${f.action})${by ? ` by ${by}` : ''}`;
  if (f.status === 'success') return `${f.target} fenced (${f.action})${by ? ` by ${by}` : ''}`;
  if (f.status === 'pending') return `fencing of ${what} still pending`;
  return `fencing of ${what} failed${f.exitReason ? `: ${f.exitReason}` : ''}`;
}
