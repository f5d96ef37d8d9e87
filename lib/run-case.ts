import { auditUntilHealthy, type AuditResult } from './checks/audits.js';
import { deriveOutcome } from './checks/outcome.js';
import { judge } from './checks/verdict.js';
import { injectFault, type Fault } from './faults/fault.js';
import { History } from './history.js';
import { Observer, type PollingStats } from './observer.js';
import { vipHolders } from './probes/cluster.js';
import { expectationFor, loadExpectations, type Expectation } from './profile/expectations.js';
import { failedAudits, heal, type HealReport } from './heal.js';
import { type ActResult, type CaseRunRecord, writeCaseRun } from './results.js';
import type { Target } from './targets/target.js';
import { HarnessError } from './util/errors.js';
import { sleep } from './util/wait.js';
import { alignVipWithPrimary } from './recovery.js';
import { replicationState } from './probes/replication.js';
import { VipWriter, prepareWorkload } from './workload/writer.js';
import { checkData, type DataReport } from './checks/data.js';
import { connectMysql, query } from './mysql/connect.js';
import { liveLabs } from './targets/netns/state.js';

let signalled = false;
/** Whether this process got a Ctrl-C during a case: the cases after it are not started. */
export const interruptedHere = () => signalled;

/** One step of a case: a fault, and the key of its expectation in the profile's expectations.json. */
export interface Act {
  id: string;
  fault: Fault;
}

/** Who is who when a case starts. */
export interface CaseContext {
  target: Target;
  /** The VIP holder when the case starts (faults aim here unless said). */
  holder: string;
  /** The other db node. */
  other: string;
}

export interface CaseDefinition {
  id: string;
  title: string;
  acts: (c: CaseContext) => Act[];
}

export interface RunOptions {
  runId: string;
  repetition: number;
  /** The client workload through the VIP (default on, 10 writes/s). */
  writes?: boolean;
  writeRate?: number;
  /** Where the result and history files go (default reports/runs/<runId>; tests use a temp dir). */
  resultsDir?: string;
  log?: (line: string) => void;
  /** Wraps each phase (inject, observe, judge per act; undo, audit) — reports make Allure steps of them. */
  step?: <T>(name: string, body: () => Promise<T>, act?: string) => Promise<T>;
  /** Called where evidence is worth collecting: 'before' the first act, 'after <act>' when judged, 'after' the audits. */
  onEvidence?: (moment: string) => Promise<void>;
}

/**
 * Runs one repetition of a case: audit first, then each act (inject, observe at ≤100 ms until the
 * cluster settles, judge against the expectation), then undo every fault in reverse order (the
 * notebook's recovery), then the shared audits. Recovery runs whatever happened before it.
 */
export async function runCase(t: Target, def: CaseDefinition, opts: RunOptions): Promise<{ record: CaseRunRecord; expectations: Expectation[] }> {
  const log = opts.log ?? (() => {});
  const step = opts.step ?? (<T>(_name: string, body: () => Promise<T>) => body());
  const started = performance.now();
  const labsRunning = liveLabs();
  const expectationsAll = loadExpectations(t.profile);

  const pre = await auditUntilHealthy(t, 30_000);
  if (!pre.ok) {
    log(`case ${def.id}: cluster unhealthy before the case (${failed(pre.results)}); healing`);
    const h = await heal(t, log);
    if (!h.ok) throw new HarnessError(`case ${def.id}: the cluster is unhealthy before the case and could not be healed: ${h.rungs.map((r) => `${r.rung}: ${r.detail}`).join(' → ')}`);
  }
  await alignVipWithPrimary(t, log);
  const primary = (await replicationState(t)).find((x) => x.reachable && !x.replica && !x.readOnly)?.host ?? t.profile.config.mysql.replication.primary;
  await prepareWorkload(t, primary);
  const holders = await vipHolders(t);
  const holder = holders[0]!;
  const other = t.profile.dbHosts.map((h) => h.name).find((h) => h !== holder)!;
  const acts = def.acts({ target: t, holder, other });
  // The guard comes before any fault is injected.
  if (!t.disposable && acts.some((a) => a.fault.destructive)) {
    throw new HarnessError(`refusing to inject destructive faults into ${t.label}: the target does not declare itself disposable`, 'set disposable: true in the target\'s config if this cluster may be broken');
  }
  const expectations = acts.map((a) => expectationFor(expectationsAll, a.id, t.profile));
  const settle = await settleTimes(t);

  const history = new History();
  const observer = new Observer(t, history, 100);
  const results: ActResult[] = [];
  const injected: Fault[] = [];
  const recoveryErrors: string[] = [];
  let audits: AuditResult[] = [];
  let auditsOk = false;
  let healed = false;
  let healReport: HealReport | undefined;
  let actError: unknown;
  await opts.onEvidence?.('before');
  await observer.observeOnce();
  observer.start();
  // Ctrl-C (SIGINT, which the terminal sends to this worker too): stop at the next step and let
  // the recovery below undo the faults, as after any failure. SIGTERM (the worker is being ended):
  // undo them here, bounded, then exit. Both share one undo, so a fault is never undone twice at once.
  const interrupt = new AbortController();
  let undoing: Promise<void> | undefined;
  const undoAll = () => (undoing ??= (async () => {
    for (const f of [...injected].reverse()) {
      try {
        await step(`recover: undo ${f.name}`, () => f.undo(t, history));
        history.step(`undone: ${f.name}`);
      } catch (e) {
        recoveryErrors.push(`${f.name}: ${(e as Error).message}`);
        history.step(`undo failed: ${f.name}`, (e as Error).message);
      }
    }
  })());
  const onSigint = () => {
    // A second Ctrl-C must not end the worker in the middle of the undo: recovery is bounded anyway.
    if (interrupt.signal.aborted) return log(`case ${def.id}: recovery in progress (its steps are bounded)`);
    signalled = true;
    log(`case ${def.id}: interrupted; stopping and undoing ${injected.length} fault(s)`);
    history.step('interrupted', 'SIGINT');
    interrupt.abort();
  };
  const onSigterm = () => {
    log(`case ${def.id}: terminated; undoing ${injected.length} fault(s) before exit`);
    interrupt.abort();
    const bound = new Promise((r) => setTimeout(r, 60_000));
    void Promise.race([undoAll(), bound]).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSigint);
  process.once('SIGTERM', onSigterm);
  const runKey = `${opts.runId}/${def.id}/${opts.repetition}`;
  const writer = opts.writes === false ? undefined : new VipWriter(t, history, runKey, { rate: opts.writeRate }).start();
  let data: DataReport | undefined;
  let polling: PollingStats | undefined;
  if (writer) await sleep(1000); // a baseline of acknowledged writes before the first fault
  try {
    for (const [i, act] of acts.entries()) {
      const e = expectations[i]!;
      const from = history.now();
      if (interrupt.signal.aborted) throw new HarnessError(`case ${def.id}: interrupted before ${act.id}`);
      log(`case ${def.id} act ${act.id}: ${act.fault.name}`);
      injected.push(act.fault);
      await step(`inject: ${act.fault.name}`, () => untilAborted(injectFault(act.fault, t, history), interrupt.signal), act.id);
      const to = await step('observe until settled', () => settled(history, settle, interrupt.signal), act.id);
      if (interrupt.signal.aborted) throw new HarnessError(`case ${def.id}: interrupted during ${act.id}`);
      const outcome = deriveOutcome(history, from, to, act.fault.host);
      outcome.vipHolderRoles = await vipHolderRoles(t, outcome.finalHolders);
      const j = await step('judge', async () => judge(e, outcome), act.id);
      history.step(`judged ${act.id}`, `${j.verdict}: ${j.seen}`);
      await opts.onEvidence?.(`after ${act.id}`);
      results.push({
        runId: opts.runId, caseId: def.id, caseTitle: def.title, act: act.id, actTitle: e.title, repetition: opts.repetition,
        target: t.label, profile: t.profile.name, fault: act.fault.name, verdict: j.verdict, hazard: j.hazard,
        expected: `VIP ${e.vipAfter.join('|')}; dual VIP ${e.dualVipDuring}`, seen: j.seen, mismatches: j.mismatches, outcome,
        startedAt: new Date(history.startedAt.getTime() + from).toISOString(),
      });
      log(`  → ${j.verdict.toUpperCase()}: ${j.seen}${j.mismatches.length ? `\n    ${j.mismatches.join('\n    ')}` : ''}`);
    }
  } catch (e) {
    actError = e;
    history.step('act failed', (e as Error).message);
  } finally {
    const recoveryAt = history.now();
    history.step('recovery');
    await undoAll();
    // Until the faults are undone, a SIGTERM waits for that undo before the worker exits.
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    try {
      const a = await step('audit', () => auditUntilHealthy(t, 60_000));
      audits = a.results;
      auditsOk = a.ok;
      history.step('audits', auditsOk ? 'all pass' : failed(audits));
      await opts.onEvidence?.('after');
    } catch (e) {
      recoveryErrors.push(`audits: ${(e as Error).message}`);
    }
    await observer.stop();
    // While the faults played out (first fault → recovery), which is what the verdicts are judged on.
    polling = observer.polling(history.faults()[0]?.t ?? 0, recoveryAt);
    history.step('observer', `while faults were active: ${polling.polls} polls, every ${polling.intervalMs} ms asked; gaps median ${polling.medianGapMs} ms, p95 ${polling.p95GapMs} ms, max ${polling.maxGapMs} ms`);
    await writer?.stop();
    if (writer) {
      try {
        data = await checkData(t, history, runKey);
        history.step('data check', data.problems.join('; ') || `${data.writes.ok}/${data.writes.total} writes acknowledged, none lost`);
      } catch (e) {
        recoveryErrors.push(`data check: ${(e as Error).message}`);
      }
    }
    if (!auditsOk) {
      log(`case ${def.id}: left the cluster unhealthy (${failed(audits) || recoveryErrors.join('; ')}); healing for the next case`);
      healed = true;
      healReport = await heal(t, log);
      log(healReport.ok ? `case ${def.id}: healed by "${healReport.healedBy}"` : `case ${def.id}: healing failed: ${failedAudits(healReport.results)}`);
    }
  }
  const record: CaseRunRecord = {
    runId: opts.runId, startedAt: history.startedAt.toISOString(), caseId: def.id, caseTitle: def.title, repetition: opts.repetition, target: t.label, profile: t.profile.name,
    overrides: t.overrides, acts: results, audits, auditsOk, healed, heal: healReport, labsRunning, wallMs: Math.round(performance.now() - started), recoveryErrors, data, polling,
  };
  writeCaseRun(record, history, opts.resultsDir);
  if (actError) throw actError;
  return { record, expectations };
}

/** Whether each VIP holder's server is writable: the VIP should lead to the primary. */
async function vipHolderRoles(t: Target, holders: string[]): Promise<Record<string, 'writable' | 'read_only' | 'unreachable'>> {
  const out: Record<string, 'writable' | 'read_only' | 'unreachable'> = {};
  for (const h of holders) {
    try {
      const c = await connectMysql(t, h, undefined, 3_000);
      try {
        const [r] = await query(c, 'SELECT @@GLOBAL.read_only AS ro');
        out[h] = Number(r?.ro) === 1 ? 'read_only' : 'writable';
      } finally {
        await c.end().catch(() => c.destroy());
      }
    } catch {
      out[h] = 'unreachable';
    }
  }
  return out;
}

const failed = failedAudits;

interface SettleTimes { minMs: number; stableMs: number; maxMs: number }

/**
 * How long to watch after a fault before judging: at least corosync's token + consensus timeouts
 * (membership changes cannot be seen sooner) plus 3 s for Pacemaker to act on them, then until
 * nothing changed for stableMs. The peer's takeover after kill -9 corosync was seen at 6.6–7.6 s
 * (token 3 s + consensus 3.6 s): the slack keeps a slow takeover from being judged "stayed".
 */
async function settleTimes(t: Target): Promise<SettleTimes> {
  const host = t.profile.dbHosts[0]!.name;
  const get = async (k: string) => {
    const r = await t.exec(host, ['corosync-cmapctl', '-g', k], { check: false, timeoutMs: 3_000 });
    return Number(r.stdout.match(/= (\d+)/)?.[1] ?? NaN);
  };
  const token = (await get('runtime.config.totem.token')) || 3000;
  const consensus = (await get('runtime.config.totem.consensus')) || token * 1.2;
  return { minMs: token + consensus + 3000, stableMs: 3000, maxMs: 60_000 };
}

/** The promise, or an interruption: whichever comes first (the fault's own work may go on; recovery undoes it). */
function untilAborted<T>(p: Promise<T>, abort: AbortSignal): Promise<T | void> {
  if (abort.aborted) return Promise.resolve();
  return Promise.race([p, new Promise<void>((r) => abort.addEventListener('abort', () => r(), { once: true }))]);
}

/** Waits until the act has played out; returns the history time that closes its window. */
async function settled(h: History, s: SettleTimes, abort: AbortSignal): Promise<number> {
  const faultEnd = h.faults().at(-1)!.t;
  for (;;) {
    const now = h.now();
    if (abort.aborted) return now;
    const lastChange = h.observations().at(-1)?.t ?? faultEnd;
    if (now - faultEnd >= s.minMs && now - lastChange >= s.stableMs) return now;
    if (now - faultEnd >= s.maxMs) {
      h.step('settle timeout', `still changing ${s.maxMs} ms after the fault`);
      return now;
    }
    await sleep(100);
  }
}
