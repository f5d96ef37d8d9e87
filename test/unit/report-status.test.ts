import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { matchCategory, normalizeCategoriesConfig } from '@allurereport/core-api';
import AllureVitestReporter from 'allure-vitest/reporter';
import { afterAll, describe, expect, it } from 'vitest';
import { caseChecks, statusOf } from '../../lib/checks/case-checks.js';
import { ResultsWriter, writeRunAsAllure } from '../../lib/report/allure-results.js';
import { CATEGORIES, honestStatus, STATUS_LABEL } from '../../lib/report/allure-status.js';
import { readRuns, type Run } from '../../lib/report/regression.js';
import type { ActResult, CaseRunRecord } from '../../lib/results.js';
import config from '../../vitest.config.js';

const FIXTURES = resolve(import.meta.dirname, '../../fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'mhc-status-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Result = {
  name: string;
  status: string;
  statusDetails: { message?: string };
  labels: { name: string; value: string }[];
  steps: { name: string; status: string; steps: { name: string; status: string }[] }[];
};
const readResults = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('-result.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Result);

/** The category Allure 3 (the Awesome report) puts a result in, by its own matcher. */
const categoryOf = (r: { status: string; statusDetails?: { message?: string } }) =>
  matchCategory(normalizeCategoriesConfig(CATEGORIES as Parameters<typeof normalizeCategoriesConfig>[0]), {
    status: r.status,
    labels: [],
    message: r.statusDetails?.message,
    flaky: false,
  } as Parameters<typeof matchCategory>[1])?.name;

function record(caseId: string, acts: Partial<ActResult>[], o: Partial<CaseRunRecord> = {}): CaseRunRecord {
  return {
    runId: 'R',
    startedAt: '2026-01-01T00:00:00.000Z',
    caseId,
    caseTitle: `case ${caseId}`,
    repetition: 1,
    target: 't',
    profile: 'seed',
    overrides: [],
    acts: acts.map(
      (a, i) =>
        ({
          caseId,
          act: `${caseId}-${i}`,
          verdict: 'pass',
          mismatches: [],
          seen: 'seen',
          outcome: { windowMs: 1, dualVip: { seen: false } },
          ...a,
        }) as ActResult,
    ),
    audits: [],
    auditsOk: true,
    healed: false,
    wallMs: 1,
    recoveryErrors: [],
    ...o,
  };
}

describe('case status: only pass is green', () => {
  it('hazard and inconclusive are broken with their prefix; a fail, an unhealthy audit or a failed recovery is failed', () => {
    expect(statusOf(caseChecks([record('1', [{}])]))).toEqual({ status: 'passed' });
    const hazard = statusOf(caseChecks([record('2', [{ verdict: 'hazard', hazard: 'VIP on the read_only replica' }])]));
    expect(hazard.status).toBe('broken');
    expect(hazard.message).toMatch(/^HAZARD: known dangerous state:\n {2}2-0: VIP on the read_only replica/);
    const unknown = statusOf(
      caseChecks([
        record('3', [
          { verdict: 'inconclusive', inconclusive: 'observer saw no poll for 4 s' },
          { verdict: 'hazard', hazard: 'x' },
        ]),
      ]),
    );
    expect(unknown.status).toBe('broken');
    expect(unknown.message).toMatch(
      /^INCONCLUSIVE: not enough evidence for a verdict:\n {2}3-0: observer saw no poll for 4 s\nknown dangerous state:/,
    );
    const fail = statusOf(
      caseChecks([
        record('4', [
          { verdict: 'hazard', hazard: 'x' },
          { verdict: 'fail', mismatches: ['expected no dual VIP'] },
        ]),
      ]),
    );
    expect(fail).toMatchObject({ status: 'failed' });
    expect(fail.message).toMatch(/^outcome differs from the profile's expectation:\n {2}4-1: expected no dual VIP\nknown dangerous state:/);
    expect(statusOf(caseChecks([record('5', [{}], { recoveryErrors: ['undo failed'] })])).status).toBe('failed');
    // An act that could not be injected leaves no act result: never a pass (a 9-delay run on a kernel without sch_netem recorded acts: []).
    expect(statusOf(caseChecks([record('9', [], { actError: '9-delay-100ms: cannot inject "delay": kernel lacks sch_netem' })]))).toEqual({
      status: 'failed',
      message: 'an act could not be played:\n  9-delay-100ms: cannot inject "delay": kernel lacks sch_netem',
    });
    expect(statusOf(caseChecks([record('9', [])])).message).toBe(
      'an act could not be played:\n  no act was played (the record holds none)',
    );
    expect(
      statusOf(
        caseChecks([
          record('6', [{}], { auditsOk: false, audits: [{ audit: 'crm', ok: false, detail: 'db2 offline' }] as CaseRunRecord['audits'] }),
        ]),
      ).message,
    ).toContain('crm: db2 offline');
  });

  it('names every check (the live test shows them as steps, not as anonymous matcher steps)', () => {
    expect(caseChecks([record('1', [{}])]).map((c) => c.name)).toEqual([
      'check: every act was played to its judgement',
      'check: no act differs from its expectation',
      'check: the cluster is healthy after the case (audits)',
      "check: the notebook's recovery steps succeeded",
      'check: no acknowledged write lost in a case with no hazard',
      'check: every act had the evidence for a verdict',
      'check: the data claim had the evidence for a verdict',
      'check: no act ended in a known dangerous state',
      "check: no act ended in a known dangerous state of the operator's own command",
    ]);
  });
});

describe('the offline report (npm run report) from saved runs', () => {
  const runs = readRuns(FIXTURES);
  const latest = runs.at(-1)!;
  const dir = join(tmp, 'offline');
  const w = new ResultsWriter(dir);
  w.writeCategories();
  writeRunAsAllure(latest, FIXTURES, w);
  const extra: Run = {
    runId: 'R',
    startedAt: '2026-01-01T00:00:00.000Z',
    records: [
      record('90', [{ verdict: 'inconclusive', inconclusive: 'no observation after the fault' }]),
      record('91', [{ verdict: 'fail', mismatches: ['expected the VIP to move'] }]),
    ],
  };
  writeRunAsAllure(extra, join(tmp, 'no-such-reports'), w, { attachments: false });
  const results = readResults(dir);
  const byCase = (id: string) => results.find((r) => r.labels.some((l) => l.name === 'caseId' && l.value === id))!;

  it('a case with a hazard act is broken, its message starts with HAZARD:, and so do its act and judge steps', () => {
    const hazardCases = latest.records
      .filter((r) => r.acts.some((a) => a.verdict === 'hazard') && r.acts.every((a) => a.verdict !== 'fail'))
      .map((r) => r.caseId);
    expect(hazardCases.length).toBeGreaterThan(0);
    for (const id of hazardCases) {
      const r = byCase(id);
      expect(r.status, `case ${id}`).toBe('broken');
      expect(r.statusDetails.message, `case ${id}`).toMatch(/^HAZARD: /);
      expect(categoryOf(r), `case ${id}`).toBe('Hazard (known dangerous state)');
      const act = r.steps.find((s) => s.name.startsWith('act ') && s.status !== 'passed')!;
      expect(act.status).toBe('broken');
      expect(act.steps.find((s) => s.name.startsWith('judge: HAZARD'))?.status).toBe('broken');
    }
  });

  it('the overview cannot read 100 %: passed only where every act passed', () => {
    const passed = results
      .filter((r) => r.status === 'passed')
      .map((r) => r.labels.find((l) => l.name === 'caseId')!.value)
      .sort();
    expect(passed).toEqual(
      latest.records
        .filter((r) => r.acts.every((a) => a.verdict === 'pass'))
        .map((r) => r.caseId)
        .sort(),
    );
    expect(passed.length).toBeLessThan(results.length);
  });

  it('inconclusive is broken in its own category; a fail is failed, a regression', () => {
    expect(byCase('90')).toMatchObject({ status: 'broken', statusDetails: { message: expect.stringMatching(/^INCONCLUSIVE: /) } });
    expect(categoryOf(byCase('90'))).toBe('Inconclusive (not enough evidence)');
    expect(byCase('91').status).toBe('failed');
    expect(categoryOf(byCase('91'))).toBe('Regression / differs from expectation');
  });

  it('writes categories.json into the results directory', () => {
    const cats = JSON.parse(readFileSync(join(dir, 'categories.json'), 'utf8')) as {
      name: string;
      matchedStatuses: string[];
      messageRegex?: string;
    }[];
    expect(cats.map((c) => c.name)).toEqual([
      'Hazard (known dangerous state)',
      'Inconclusive (not enough evidence)',
      'Regression / differs from expectation',
    ]);
    expect(new RegExp(cats[0]!.messageRegex!).test('HAZARD: a\nb')).toBe(true);
  });
});

describe('the live report (allure-vitest reporter with honestStatus)', () => {
  /** A finished vitest task as the reporter receives it, with the runtime messages the test sent. */
  const task = (
    name: string,
    state: 'pass' | 'fail',
    labels: { name: string; value: string }[],
    error?: { name: string; message: string },
  ) => ({
    type: 'test',
    mode: 'run',
    name,
    file: { filepath: resolve(import.meta.dirname, '../../scenarios/x.test.ts') },
    meta: { allureRuntimeMessages: [{ type: 'metadata', data: { labels } }] },
    result: { state, startTime: 1, duration: 1, errors: error ? [error] : [] },
  });

  it('vitest.config.ts gives the reporter the categories and the listener', () => {
    const reporters = (config as { test: { reporters: unknown[] } }).test.reporters;
    const allure = reporters.find((r) => Array.isArray(r) && r[0] === 'allure-vitest/reporter') as [
      string,
      { categories: unknown; listeners: { beforeTestResultWrite: unknown }[] },
    ];
    expect(allure[1].categories).toBe(CATEGORIES);
    expect(allure[1].listeners[0]!.beforeTestResultWrite).toBe(honestStatus);
  });

  it('a hazard case whose test passed is written broken with HAZARD:, a plain pass stays passed, inconclusive is broken', () => {
    const dir = join(tmp, 'live');
    const reporter = new AllureVitestReporter({
      resultsDir: dir,
      categories: CATEGORIES,
      listeners: [{ beforeTestResultWrite: honestStatus }],
    });
    reporter.onInit({ projects: [] } as never);
    reporter.handleTask(
      task('case 5', 'pass', [
        { name: 'verdict', value: 'hazard' },
        { name: STATUS_LABEL, value: 'HAZARD: known dangerous state:\n  5: dual VIP' },
      ]) as never,
    );
    reporter.handleTask(task('case 4', 'pass', [{ name: 'verdict', value: 'pass' }]) as never);
    reporter.handleTask(
      task('case 8', 'fail', [{ name: 'verdict', value: 'inconclusive' }], {
        name: 'CaseAssertionError',
        message: 'INCONCLUSIVE: not enough evidence for a verdict:\n  8: x',
      }) as never,
    );
    reporter.handleTask(
      task('case 9', 'fail', [{ name: 'verdict', value: 'fail' }], { name: 'CaseAssertionError', message: 'outcome differs' }) as never,
    );
    reporter.handleTask(task('unit test', 'pass', []) as never);
    const rs = readResults(dir);
    const by = (n: string) => rs.find((r) => r.name === n)!;
    expect(by('case 5')).toMatchObject({ status: 'broken', statusDetails: { message: 'HAZARD: known dangerous state:\n  5: dual VIP' } });
    expect(
      by('case 5').labels.some((l) => l.name === STATUS_LABEL),
      'the transport label is removed',
    ).toBe(false);
    expect(by('case 4').status).toBe('passed');
    expect(by('case 8')).toMatchObject({ status: 'broken', statusDetails: { message: expect.stringMatching(/^INCONCLUSIVE: /) } });
    expect(by('case 9').status).toBe('failed');
    expect(by('unit test').status).toBe('passed');
    expect(JSON.parse(readFileSync(join(dir, 'categories.json'), 'utf8'))[0].name).toBe('Hazard (known dangerous state)');
  });

  it('a copied result written without the listener is corrected too (the offline build runs honestStatus)', () => {
    const r = { status: 'passed', statusDetails: {}, labels: [{ name: 'verdict', value: 'hazard' }] };
    honestStatus(r);
    expect(r).toMatchObject({ status: 'broken', statusDetails: { message: expect.stringMatching(/^HAZARD: /) } });
  });
});
