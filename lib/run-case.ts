import { auditUntilHealthy, type AuditResult } from './checks/audits.js';
import { judgeAct } from './checks/verdict.js';
import { injectFault, type Fault } from './faults/fault.js';
import { fencingGiveUpMs, fencingStillTrying, hostsBack, rebootedHosts, recordFencing } from './fencing/observe.js';
import { History } from './history.js';
import { MysqlWatch } from './mysql-watch.js';
import { Observer, type ClusterObserver } from './observer.js';
import { EventObserver } from './observe/event-observer.js';
import { wakeLateText } from './observe/gaps.js';
import { vipHolders } from './probes/cluster.js';
import { expectationFor, loadExpectations, type Expectation } from './profile/expectations.js';
import { failedAudits, heal, type HealReport } from './heal.js';
import { type ActResult, type CaseRunRecord, judgedFields, writeCaseRun } from './results.js';
import type { Profile } from './profile/load.js';
import { pacemakerDurationMs } from './profile/crm.js';
import type { Target } from './targets/target.js';
import { type MachineCpuSample, machineCpuBetween, machineCpuSample, selfAndChildrenCpuMs } from './util/cpu.js';
import { HarnessError } from './util/errors.js';
import { sleep, waitFor } from './util/wait.js';
import { alignVipWithPrimary } from './recovery.js';
import { corosyncTimeouts } from './cluster-ops.js';
import { describeServer, replicationState, writablePrimary } from './probes/replication.js';
import { pacemakerBusy } from './probes/controller.js';
import { VipWriter, prepareWorkload } from './workload/writer.js';
import { ACKED_BEFORE_FAULT_FLOOR, judgeData, readData } from './checks/data.js';
import { liveClusters } from './targets/live.js';
import { CaseInterrupt } from './case-interrupt.js';

export { interruptedHere } from './case-interrupt.js';

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
  /** Why the case does not apply to a profile, or undefined where it does: it is then skipped there, saying why. */
  notFor?: (profile: Profile) => string | undefined;
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
  /** How the cluster is watched (run config `observer`): events (default, a watcher in each host) or poll. */
  observer?: 'poll' | 'events';
}

/**
 * How often a host's watcher says it is alive when nothing changed: the event observer's proven
 * resolution (changes themselves are stamped by the host as they happen). Cheap: one short line.
 */
const WATCHER_BEAT_MS = 100;

/** Everything one repetition of a case works with, from prepare to judge. */
interface CaseRun {
  t: Target;
  def: CaseDefinition;
  opts: RunOptions;
  log: (line: string) => void;
  step: NonNullable<RunOptions['step']>;
  acts: Act[];
  expectations: Expectation[];
  settle: SettleTimes;
  history: History;
  observer: ClusterObserver;
  mysql: MysqlWatch;
  writer?: VipWriter;
  runKey: string;
  labsRunning: string[];
  started: number;
  /** The harness's CPU (this worker and its commands) and the moment it was read, after any heal before the case. */
  cpuAtStart: { ms: number; at: number; machine: MachineCpuSample };
  injected: Fault[];
  results: ActResult[];
  recoveryErrors: string[];
  interrupt: CaseInterrupt;
  /** The act being played (the one to blame when playing throws). */
  playing?: string;
  actError?: string;
}

interface Recovery {
  audits: AuditResult[];
  auditsOk: boolean;
  healReport?: HealReport;
}

/**
 * Runs one repetition of a case in four phases: prepare (audit, heal if needed, VIP on the
 * primary, workload warmed up), acts (inject, observe at ≤100 ms until the cluster settles, judge
 * from the history), recover (undo every fault in reverse order — the notebook's recovery — then
 * the shared audits and the final data reads; heal if the cluster is left unhealthy) and judge
 * the data. Recovery runs whatever happened before it.
 */
export async function runCase(
  t: Target,
  def: CaseDefinition,
  opts: RunOptions,
): Promise<{ record: CaseRunRecord; expectations: Expectation[] }> {
  const run = await prepare(t, def, opts);
  try {
    await playActs(run);
  } catch (e) {
    // Recorded, not thrown: the case's checks fail it with this line ("an act could not be
    // played"), in the live test and in every report built from the saved record alike.
    run.actError = `${run.playing ?? 'before the first act'}: ${(e as Error).message.split('\n')[0]}`;
    run.history.step('act failed', (e as Error).message);
  }
  const recovery = await recover(run);
  judgeAgainOnTheWholeHistory(run);
  const record = caseRecord(run, recovery);
  writeCaseRun(record, run.history, opts.resultsDir);
  return { record, expectations: run.expectations };
}

async function prepare(t: Target, def: CaseDefinition, opts: RunOptions): Promise<CaseRun> {
  const log = opts.log ?? (() => {});
  const started = performance.now();
  const labsRunning = liveClusters();
  const expectationsAll = loadExpectations(t.profile);
  const pre = await auditUntilHealthy(t, 30_000);
  if (!pre.ok) {
    log(`case ${def.id}: cluster unhealthy before the case (${failedAudits(pre.results)}); healing`);
    const h = await heal(t, log);
    if (!h.ok)
      throw new HarnessError(
        `case ${def.id}: the cluster is unhealthy before the case and could not be healed: ${h.rungs.map((r) => `${r.rung}: ${r.detail}`).join(' → ')}`,
      );
  }
  const cpuAtStart = { ms: selfAndChildrenCpuMs(), at: performance.now(), machine: machineCpuSample() };
  await alignVipWithPrimary(t, log);
  const states = await replicationState(t);
  const primary = writablePrimary(states);
  if (!primary)
    throw new HarnessError(
      `case ${def.id}: no single writable primary to prepare the workload on (${states.map(describeServer).join('; ')})`,
      'the audits passed, so this is a harness bug: report it with this line',
    );
  await prepareWorkload(t, primary);
  const holder = (await vipHolders(t))[0]!;
  const other = t.profile.dbHosts.map((h) => h.name).find((h) => h !== holder)!;
  const acts = def.acts({ target: t, holder, other });
  // The guard comes before any fault is injected.
  if (!t.disposable && acts.some((a) => a.fault.destructive)) {
    throw new HarnessError(
      `refusing to inject destructive faults into ${t.label}: the target does not declare itself disposable`,
      "set disposable: true in the target's config if this cluster may be broken",
    );
  }
  const history = new History();
  const run: CaseRun = {
    t,
    def,
    opts,
    log,
    step: opts.step ?? (<T>(_name: string, body: () => Promise<T>) => body()),
    acts,
    expectations: acts.map((a) => expectationFor(expectationsAll, a.id, t.profile)),
    settle: await settleTimes(t),
    history,
    observer: opts.observer === 'poll' ? new Observer(t, history, 100) : new EventObserver(t, history, WATCHER_BEAT_MS),
    mysql: new MysqlWatch(t, history),
    runKey: `${opts.runId}/${def.id}/${opts.repetition}`,
    labsRunning,
    started,
    cpuAtStart,
    injected: [],
    results: [],
    recoveryErrors: [],
    interrupt: new CaseInterrupt(def.id, log, history, () => undoAll(run)),
  };
  await opts.onEvidence?.('before');
  await run.observer.observeOnce();
  run.observer.start();
  run.mysql.start();
  if (opts.writes !== false) await startWorkload(run);
  return run;
}

/** The writer through the VIP, warmed up: the data claim needs writes acknowledged before the first fault. */
async function startWorkload(run: CaseRun): Promise<void> {
  run.writer = new VipWriter(run.t, run.history, run.runKey, { rate: run.opts.writeRate }).start();
  const acked = await run.writer.warmUp(ACKED_BEFORE_FAULT_FLOOR, 10_000);
  run.history.step('warm-up', `${acked} writes acknowledged through the VIP before the first fault (floor ${ACKED_BEFORE_FAULT_FLOOR})`);
  if (acked < ACKED_BEFORE_FAULT_FLOOR)
    run.log(
      `case ${run.def.id}: only ${acked} writes acknowledged through the VIP in 10 s before the first fault; the data claim will be inconclusive`,
    );
}

async function playActs(run: CaseRun): Promise<void> {
  const { t, def, history, step, interrupt } = run;
  for (const [i, act] of run.acts.entries()) {
    const e = run.expectations[i]!;
    if (interrupt.aborted) throw new HarnessError(`case ${def.id}: interrupted before ${act.id}`);
    run.playing = act.id;
    run.log(`case ${def.id} act ${act.id}: ${act.fault.name}`);
    history.add({ type: 'act', phase: 'start', act: act.id, fault: act.fault.name, faulted: act.fault.host });
    const from = history.now();
    run.injected.push(act.fault);
    await step(`inject: ${act.fault.name}`, () => interrupt.race(injectFault(act.fault, t, history)), act.id);
    const settle = e.fencing === 'fails' ? untilFencingGivenUp(run, from) : run.settle;
    let window = await step('observe until settled', () => settled(history, settle, interrupt.signal), act.id);
    if (interrupt.aborted) throw new HarnessError(`case ${def.id}: interrupted during ${act.id}`);
    await run.mysql.observeOnce(true);
    if (t.profile.fences) {
      await recordFencing(t, history, from);
      window = await step('observe until the fenced hosts are back', () => untilRebootedHostsBack(run, from, window), act.id);
    }
    const end = history.add({
      type: 'act',
      phase: 'end',
      act: act.id,
      from,
      to: window.to,
      settled: window.settled,
      polling: run.observer.polling(from, window.to),
    });
    const j = await step('judge', async () => judgeAct(history, end as Extract<typeof end, { type: 'act'; phase: 'end' }>, e), act.id);
    await run.opts.onEvidence?.(`after ${act.id}`);
    run.results.push({
      runId: run.opts.runId,
      caseId: def.id,
      caseTitle: def.title,
      act: act.id,
      actTitle: e.title,
      repetition: run.opts.repetition,
      target: t.label,
      profile: t.profile.name,
      fault: act.fault.name,
      ...judgedFields(j),
      expected: `VIP ${e.vipAfter.join('|')}; dual VIP ${e.dualVipDuring}${e.fencing === 'succeeds' ? '' : `; fencing ${e.fencing}`}`,
      startedAt: new Date(history.startedAt.getTime() + from).toISOString(),
    });
    run.log(
      `  → ${j.verdict.toUpperCase()}: ${j.seen}${j.inconclusive ? ` (${j.inconclusive})` : ''}${j.mismatches.length ? `\n    ${j.mismatches.join('\n    ')}` : ''}`,
    );
  }
}

/**
 * Each act judged again once the observer has stopped (each watcher's last look taken): a change
 * a watcher's periodic look found after an act's window may have happened inside it, and then the
 * act's times are known no finer than that (lib/checks/verdict.ts). The verdict stays a function
 * of the history, the whole case's, as `npm run judge` reads it.
 */
function judgeAgainOnTheWholeHistory(run: CaseRun): void {
  const ends = run.history.actEnds();
  run.results = run.results.map((r, i) => {
    const end = ends[i];
    if (!end || end.act !== r.act) return r;
    const j = judgeAct(run.history, end, run.expectations[i]!);
    if (j.verdict === r.verdict) return r;
    run.log(`  → ${r.act} judged again on the whole history: ${j.verdict.toUpperCase()}${j.inconclusive ? ` (${j.inconclusive})` : ''}`);
    return { ...r, ...judgedFields(j) };
  });
}

async function undoAll(run: CaseRun): Promise<void> {
  for (const f of [...run.injected].reverse()) {
    try {
      await run.step(`recover: undo ${f.name}`, () => f.undo(run.t, run.history));
      run.history.step(`undone: ${f.name}`);
    } catch (e) {
      run.recoveryErrors.push(`${f.name}: ${(e as Error).message}`);
      run.history.step(`undo failed: ${f.name}`, (e as Error).message);
    }
  }
}

/** Undo, audits, observer and writer stopped, the final data reads; heal when left unhealthy. */
async function recover(run: CaseRun): Promise<Recovery> {
  const { t, history, log, def } = run;
  history.step('recovery');
  await run.interrupt.undo();
  run.interrupt.release();
  const r: Recovery = { audits: [], auditsOk: false };
  try {
    const a = await run.step('audit', () => auditUntilHealthy(t, 60_000));
    Object.assign(r, { audits: a.results, auditsOk: a.ok });
    history.step('audits', a.ok ? 'all pass' : failedAudits(a.results));
    await run.opts.onEvidence?.('after');
  } catch (e) {
    run.recoveryErrors.push(`audits: ${(e as Error).message}`);
  }
  await run.observer.stop();
  await run.mysql.stop();
  await run.writer?.stop();
  if (run.writer) await readData(t, history, run.runKey);
  if (!r.auditsOk) {
    log(
      `case ${def.id}: left the cluster unhealthy (${failedAudits(r.audits) || run.recoveryErrors.join('; ')}); healing for the next case`,
    );
    r.healReport = await heal(t, log);
    log(
      r.healReport.ok
        ? `case ${def.id}: healed by "${r.healReport.healedBy}"`
        : `case ${def.id}: healing failed: ${failedAudits(r.healReport.results)}`,
    );
  }
  return r;
}

function caseRecord(run: CaseRun, r: Recovery): CaseRunRecord {
  const { t, def, opts, history } = run;
  const recoveryAt = history.events.find((e) => e.type === 'step' && e.step === 'recovery')?.t ?? history.now();
  // While the faults played out (first fault → recovery), which is what the verdicts are judged on.
  const polling = run.observer.polling(history.faults()[0]?.t ?? 0, recoveryAt);
  const clocks = run.observer.clockOffsets();
  history.step(
    'observer',
    `while faults were active: ${polling.polls} polls, every ${polling.intervalMs} ms asked; gaps median ${polling.medianGapMs} ms, p95 ${polling.p95GapMs} ms, p99 ${polling.p99GapMs} ms, max ${polling.maxGapMs} ms${polling.wakeLate ? `; ${wakeLateText(polling.wakeLate)}` : ''}; host clocks vs this machine: ${Object.entries(
      clocks,
    )
      .map(([x, c]) => `${x} ${c.offsetMs >= 0 ? '+' : ''}${c.offsetMs} ms (±${Math.ceil(c.rttMs / 2)})`)
      .join(', ')}${costLine(run.observer)}`,
  );
  const data = run.writer ? judgeData(history, run.runKey) : undefined;
  if (data)
    history.step(
      'data check',
      `${data.verdict}: ${data.problems.join('; ') || data.inconclusive || `${data.writes.ok}/${data.writes.total} writes acknowledged (${data.ackedBeforeFault} before the first fault), none lost`}`,
    );
  return {
    runId: opts.runId,
    startedAt: history.startedAt.toISOString(),
    caseId: def.id,
    caseTitle: def.title,
    repetition: opts.repetition,
    target: t.label,
    profile: t.profile.name,
    overrides: t.overrides,
    acts: run.results,
    audits: r.audits,
    auditsOk: r.auditsOk,
    healed: !!r.healReport,
    heal: r.healReport,
    labsRunning: run.labsRunning,
    wallMs: Math.round(performance.now() - run.started),
    recoveryErrors: run.recoveryErrors,
    ...(run.actError ? { actError: run.actError } : {}),
    data,
    polling,
    ...(run.observer.cost ? { observerCost: run.observer.cost() } : {}),
    ...(r.healReport ? {} : { harnessCpu: harnessCpu(run) }),
    machineCpu: machineCpuBetween(run.cpuAtStart.machine, machineCpuSample(), performance.now() - run.cpuAtStart.at),
    missedChanges: history.events.flatMap((e) => (e.type === 'missed' ? [{ host: e.host, t: e.t, sinceMs: e.sinceMs, what: e.what }] : [])),
    actFloorMs: { membership: run.settle.membershipMs, watched: run.settle.minMs },
    clockOffsets: clocks,
    runKey: run.runKey,
  };
}

function harnessCpu({ cpuAtStart }: CaseRun): { cpuMs: number; percent: number } {
  const cpuMs = Math.round(selfAndChildrenCpuMs() - cpuAtStart.ms);
  return { cpuMs, percent: Math.round((cpuMs / (performance.now() - cpuAtStart.at)) * 1000) / 10 };
}

/** "; watchers' CPU: db1 0.9 %, db2 0.8 % of one core" when the observer can tell. */
function costLine(o: ClusterObserver): string {
  const c = o.cost?.();
  if (!c || !Object.keys(c).length) return '';
  return `; watchers' CPU: ${Object.entries(c)
    .map(([h, x]) => `${h} ${x.cpuPercent} %`)
    .join(', ')} of one core`;
}

interface SettleTimes {
  /** corosync's token + consensus: no membership change can be seen sooner (the act's floor). */
  membershipMs: number;
  minMs: number;
  stableMs: number;
  maxMs: number;
  /** Whether the cluster manager is still at work (a change the observer cannot see); absent: observations alone decide. */
  busy?: () => Promise<boolean | undefined>;
}

/**
 * How long to watch after a fault before judging: at least corosync's token + consensus timeouts
 * (membership changes cannot be seen sooner) plus 3 s for Pacemaker to act on them, then until
 * nothing changed for stableMs. The peer's takeover after kill -9 corosync was seen at 6.6–7.6 s
 * (token 3 s + consensus 3.6 s): the slack keeps a slow takeover from being judged "stayed".
 */
async function settleTimes(t: Target): Promise<SettleTimes> {
  const { tokenMs, consensusMs } = await corosyncTimeouts(t, t.profile.dbHosts[0]!.name);
  const membershipMs = tokenMs + consensusMs;
  // Pacemaker at work is a change too: its recovery of a VIP active on both nodes holds the dual VIP
  // still while it re-probes (seen on the seed: the act closed 0.1 s before both copies went).
  const base = { membershipMs, minMs: membershipMs + 3000, stableMs: 3000, maxMs: 60_000, busy: () => pacemakerBusy(t) };
  const clone = t.profile.promotableMysql;
  if (!clone) return base;
  // Where Pacemaker runs MariaDB a failover has quiet stretches the observer cannot see (a
  // promotion, the survivor's monitor that has yet to set its promotion score): an act is over
  // only once the DC has been idle for longer than the clone's slowest monitor interval.
  const intervals = clone.primitive.ops.filter((o) => o.name === 'monitor').map((o) => pacemakerDurationMs(o.attrs.interval ?? '0'));
  // A transition may wait out an action its node lost (a killed pacemaker-execd): the action's
  // timeout plus cluster-delay (60 s by default). The act's window must be able to hold that
  // before it is called unsettled (seen: still busy 60 s after a kill of pacemaker-execd).
  const timeouts = clone.primitive.ops.map((o) => pacemakerDurationMs(o.attrs.timeout ?? '0'));
  const maxMs = Math.max(base.maxMs, Math.max(0, ...timeouts) + CLUSTER_DELAY_MS + 3000);
  return { ...base, stableMs: 3000 + Math.max(0, ...intervals), maxMs };
}

/** Pacemaker's cluster-delay default: the slack a transition adds to an action's timeout. */
const CLUSTER_DELAY_MS = 60_000;

/** How long a fenced host may take to rejoin once booted (corosync, pacemaker, its replica). */
const REJOIN_BOUND_MS = 60_000;

/**
 * A host Pacemaker rebooted in the act is part of the act until it is back: its boot and its
 * rejoin (which starts its replica) are what the act's end must show. Bounded by the profile's
 * boot delay plus REJOIN_BOUND_MS: a host that does not come back is left to the verdict (its
 * daemons down at the end), said in the history, never waited for without end.
 */
async function untilRebootedHostsBack(run: CaseRun, from: number, window: SettleWindow): Promise<SettleWindow> {
  const { history: h, interrupt } = run;
  const hosts = rebootedHosts(h, from);
  if (!hosts.length) return window;
  const what = `${hosts.join(' and ')} to boot and rejoin after being fenced`;
  const boundMs = run.t.profile.bootDelayMs + REJOIN_BOUND_MS;
  try {
    await waitFor(what, async () => interrupt.aborted || hostsBack(h, hosts), { timeoutMs: boundMs, intervalMs: 250 });
  } catch {
    h.step('fenced host not back', `waited ${boundMs / 1000} s for ${what}`);
    // The act lasted the wait: its last observation is the evidence that the host stayed away.
    return { ...window, to: h.now() };
  }
  if (interrupt.aborted) return window;
  h.step('fenced host back', `${hosts.join(', ')}: corosync, pacemakerd and its children running`);
  return settled(h, { ...run.settle, maxMs: run.settle.maxMs + (h.now() - window.to) }, interrupt.signal);
}

/**
 * An act that breaks the fence path is over once the controller has given up its retries: busy
 * until a failed fencing is recorded and no attempt is pending (found on the lab: the DC's state
 * alone let the hung-switch act close at +14 s, before its first attempt had timed out), bounded
 * by the controller's own give-up time.
 */
function untilFencingGivenUp(run: CaseRun, since: number): SettleTimes {
  const { t, settle, history } = run;
  return {
    ...settle,
    maxMs: Math.max(settle.maxMs, fencingGiveUpMs(t.profile)),
    busy: async () => (await settle.busy?.()) || (await fencingStillTrying(t, history, since)),
  };
}

type SettleWindow = { to: number; settled: boolean };

/**
 * Waits until the act has played out; returns the window's end and whether the cluster had
 * settled. A change is an observation that differs from the one before it (every poll of a dual
 * VIP is recorded, a steady one included); where the settle times have a `busy` question, a
 * Pacemaker at work (asked at most once a second) counts as a change too.
 */
async function settled(h: History, s: SettleTimes, abort: AbortSignal): Promise<SettleWindow> {
  const faultEnd = h.faults().at(-1)!.t;
  const changes = new ChangeTracker(h);
  let busyAt = -Infinity;
  let askedAt = -Infinity;
  for (;;) {
    const now = h.now();
    if (abort.aborted) return { to: now, settled: false };
    if (s.busy && now - askedAt >= 1000) {
      askedAt = now;
      if (await s.busy()) busyAt = h.now();
    }
    const lastChange = Math.max(changes.last(), faultEnd, busyAt);
    if (now - faultEnd >= s.minMs && now - lastChange >= s.stableMs) return { to: now, settled: true };
    if (now - faultEnd >= s.maxMs) {
      h.step('settle timeout', `still changing ${s.maxMs} ms after the fault`);
      return { to: now, settled: false };
    }
    await sleep(100);
  }
}

/** The time of the latest observation whose content differs from the one before it, read incrementally. */
class ChangeTracker {
  private seen = 0;
  private key = '';
  private at = -Infinity;
  constructor(private readonly h: History) {}
  last(): number {
    const obs = this.h.observations();
    for (; this.seen < obs.length; this.seen++) {
      const k = JSON.stringify(obs[this.seen]!.nodes);
      if (k !== this.key) {
        this.key = k;
        this.at = obs[this.seen]!.t;
      }
    }
    return this.at;
  }
}
