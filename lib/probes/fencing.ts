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
 * The cluster's fencing history: what every db host's fencer answers, merged; undefined when none
 * answers. Every host is asked because no single answer can be trusted to be whole: a fencer that
 * has just started (its host fenced and booted again) answers with an empty history until it has
 * synced with its peers (captured: fixtures/lab/stonith_admin-history.fresh-after-fencing.xml).
 */
export async function fenceHistory(t: Target): Promise<FenceOperation[] | undefined> {
  return mergeFenceHistories(await Promise.all(t.profile.dbHosts.map((h) => hostFenceHistory(t, h.name))));
}

/** One host's fencer's history; undefined when it does not answer (its host down, pacemaker stopped). */
async function hostFenceHistory(t: Target, host: string): Promise<FenceOperation[] | undefined> {
  // --verbose: without it stonith_admin lists only the last successful operation per node, not the failed ones.
  const r = await t.exec(host, ['stonith_admin', '--history', '*', '--verbose', '--output-as=xml'], { check: false, timeoutMs: 10_000 });
  return r.exitCode === 0 ? parseFenceHistory(r.stdout) : undefined;
}

/** The union of the hosts' answers, each operation once (fenceOpKey); undefined when none answered. */
export function mergeFenceHistories(answers: (FenceOperation[] | undefined)[]): FenceOperation[] | undefined {
  const answered = answers.filter((a): a is FenceOperation[] => a !== undefined);
  if (!answered.length) return undefined;
  const ops = new Map<string, FenceOperation>();
  for (const op of answered.flat()) if (!ops.has(fenceOpKey(op))) ops.set(fenceOpKey(op), op);
  return [...ops.values()];
}

/** What tells one recorded operation from another: its target, action, end, outcome and origin. */
export const fenceOpKey = (op: FenceOperation) =>
  `${op.target}/${op.action}/${op.completedAt ?? 'pending'}/${op.status}/${op.origin ?? ''}`;

/**
 * The fencing of `host` that completed (or is still going on) at or after `sinceMs` (epoch ms), if
 * any: a host being fenced has lost its power, and every process it ran with it. The fencer
 * records whole seconds, so one completed in the second of `sinceMs` counts.
 */
export function fencedSince(ops: FenceOperation[], host: string, sinceMs: number): FenceOperation | undefined {
  return ops.find(
    (op) =>
      op.target === host &&
      (op.status === 'pending' || (op.status === 'success' && op.completedAt !== undefined && op.completedAt >= sinceMs - 1000)),
  );
}

/** "db1 fenced (reboot) by db2" / "fencing of db1 (reboot) by db2 failed: …" for what was seen. */
export function describeFence(f: FenceOperation): string {
  const by = f.delegate ?? f.origin;
  const what = `${f.target} (${f.action})${by ? ` by ${by}` : ''}`;
  if (f.status === 'success') return `${f.target} fenced (${f.action})${by ? ` by ${by}` : ''}`;
  if (f.status === 'pending') return `fencing of ${what} still pending`;
  return `fencing of ${what} failed${f.exitReason ? `: ${f.exitReason}` : ''}`;
}
