import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AllureReport, resolveConfig } from '@allurereport/core';
import { allPass, type Comparison, compareProfiles, comparisonMarkdown } from '../compare.js';
import { REPORTS_DIR } from '../results.js';
import { readRunEnvironment, writeAllureEnvironment } from './environment.js';
import { caseLabels, ResultsWriter, runMetrics, ttfKey, writeRunAsAllure } from './allure-results.js';
import {
  DEFAULT_TOLERANCE,
  diffLatest,
  noBaselineLines,
  readRuns,
  regressionLines,
  regressionMarkdown,
  type RegressionDiff,
  type Run,
  type Tolerance,
} from './regression.js';
import { failoverTrendSvg } from './trend.js';
import { CATEGORIES, honestStatus } from './allure-status.js';

/**
 * Builds the HTML report (Allure 3, Awesome plugin, offline) for the latest run in
 * <reportsDir>/runs, with history across runs in <reportsDir>/history.jsonl (Allure 3's local
 * history: status trends per case and the time-to-failover metrics over time), the regression
 * diff against earlier runs (<reportsDir>/regression.md, and a "regression diff" entry in the
 * report with the failover trend chart).
 *
 * Test results for the latest run come from <reportsDir>/allure-results when the Allure vitest
 * reporter wrote them for that run (live steps and evidence); otherwise they are converted from
 * the run's result/history JSON. Earlier runs that the history file does not know yet are replayed
 * into it (without rendering), oldest first, so trends start with the first recorded run.
 */

export interface BuildOptions {
  reportsDir?: string;
  /** Default <reportsDir>/allure-report. */
  output?: string;
  /** Default <reportsDir>/allure-results. */
  allureResults?: string;
  /** Default <reportsDir>/history.jsonl. */
  historyPath?: string;
  tolerance?: Tolerance;
  log?: (line: string) => void;
}

export interface BuildResult {
  output: string;
  latest?: string;
  previous?: string;
  tests: number;
  replayed: string[];
  source: 'allure-results' | 'runs';
  diff: RegressionDiff;
  regressionPath: string;
  ms: number;
}

export const reportName = (runId: string) => `mysql-ha-chaos run ${runId}`;

export async function buildReport(o: BuildOptions = {}): Promise<BuildResult> {
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const reportsDir = resolve(o.reportsDir ?? REPORTS_DIR);
  const output = resolve(o.output ?? join(reportsDir, 'allure-report'));
  const allureResults = resolve(o.allureResults ?? join(reportsDir, 'allure-results'));
  const historyPath = resolve(o.historyPath ?? join(reportsDir, 'history.jsonl'));
  const tol = o.tolerance ?? DEFAULT_TOLERANCE;

  const runs = readRuns(reportsDir);
  const latest = runs.at(-1);
  const diff = diffLatest(runs, tol);
  const md = regressionMarkdown(diff, runs, tol);
  const regressionPath = join(reportsDir, 'regression.md');
  mkdirSync(reportsDir, { recursive: true });
  writeFileSync(regressionPath, md);
  if (!latest) throw new Error(`no runs in ${join(reportsDir, 'runs')}: run the scenarios first (npm run chaos)`);

  // History: replay earlier runs it does not know; drop the latest run's entry (regenerating replaces it).
  const known = new Set(readHistory(historyPath).map((p) => p.name));
  const replayed: string[] = [];
  const staging = mkdtempSync(join(tmpdir(), 'mhc-allure-'));
  try {
    for (const run of runs.slice(0, -1)) {
      if (known.has(reportName(run.runId))) continue;
      const dir = join(staging, `replay-${replayed.length}`);
      const w = new ResultsWriter(dir);
      w.writeCategories();
      writeRunAsAllure(run, reportsDir, w, { attachments: false });
      w.writeMetrics(runMetrics(run));
      await generate({
        name: reportName(run.runId),
        output: join(staging, 'replay-out'),
        historyPath,
        resultsDir: dir,
        runs,
        render: false,
      });
      replayed.push(run.runId);
      log(`history: added run ${run.runId}`);
    }
    rewriteHistory(historyPath, runs, (p) => p.name !== reportName(latest.runId));

    // The latest run's results.
    const dir = join(staging, 'latest');
    const w = new ResultsWriter(dir);
    w.writeCategories();
    let tests = copyLiveResults(allureResults, latest.runId, dir);
    const source: BuildResult['source'] = tests > 0 ? 'allure-results' : 'runs';
    if (!tests) tests = writeRunAsAllure(latest, reportsDir, w);
    w.writeMetrics(runMetrics(latest));
    const env = readRunEnvironment(join(reportsDir, 'runs', latest.runId));
    if (env) writeAllureEnvironment(dir, env);
    writeRegressionResult(w, diff, md, runs, latest);
    tests += 1;
    tests += writeComparisonResult(w, compareProfilesOf(reportsDir, runs), latest);

    rmSync(output, { recursive: true, force: true });
    await generate({ name: reportName(latest.runId), output, historyPath, resultsDir: dir, runs, render: true });
    rewriteHistory(historyPath, runs, () => true);
    const ms = Math.round(performance.now() - t0);
    log(`report for run ${latest.runId} (${tests} results from ${source}) in ${output} — ${ms} ms`);
    return { output, latest: latest.runId, previous: diff.previous, tests, replayed, source, diff, regressionPath, ms };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

async function generate(g: {
  name: string;
  output: string;
  historyPath: string;
  resultsDir: string;
  runs: Run[];
  render: boolean;
}): Promise<void> {
  const keys = [...new Set(g.runs.flatMap((r) => r.records.flatMap((x) => x.acts.map((a) => [a.caseId, a.act] as const))))];
  const config = await resolveConfig(
    {
      name: g.name,
      output: g.output,
      historyPath: g.historyPath,
      appendHistory: true,
      // The Awesome report groups by these (it does not read categories.json).
      categories: CATEGORIES,
      plugins: g.render
        ? {
            awesome: {
              options: {
                reportName: g.name,
                singleFile: false,
                groupBy: [],
                sections: ['charts', 'timeline'],
                stepTreeExpansion: 'failed',
              },
            },
            agent: { enabled: false, options: {} },
          }
        : { agent: { enabled: false, options: {} } },
      performance: {
        groups: { failover: { title: 'Time to failover (fault → VIP up on another node)' }, dual: { title: 'Dual VIP duration' } },
        metrics: Object.fromEntries(
          keys.flatMap(([c, a]) => [
            [ttfKey(c, a), { title: `failover ${c} / ${a}`, unit: 'ms', better: 'lower' as const, group: 'failover' }],
            [`dual VIP ${c} / ${a}`, { title: `dual VIP ${c} / ${a}`, unit: 'ms', better: 'lower' as const, group: 'dual' }],
          ]),
        ),
      },
    } as Parameters<typeof resolveConfig>[0],
    { output: g.output },
  );
  const report = new AllureReport(config);
  await report.start();
  await report.readDirectory(g.resultsDir);
  await report.done();
  if (g.render) makeOffline(join(g.output, 'index.html'));
}

/**
 * The Awesome plugin always writes a Google Analytics tag into index.html. The report must not
 * phone home (it is opened on machines that may only reach loopback): the tag goes, and a
 * Content-Security-Policy keeps the page to its own files.
 */
export function makeOffline(indexHtml: string): void {
  if (!existsSync(indexHtml)) return;
  let html = readFileSync(indexHtml, 'utf8');
  html = html.replace(
    /<script async src="https:\/\/www\.googletagmanager\.com[^"]*"><\/script>\s*<script>[\s\S]*?gtag\([\s\S]*?<\/script>/g,
    '',
  );
  const csp = `<meta http-equiv="Content-Security-Policy" content="default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:; connect-src 'self' data: blob:">`;
  if (!html.includes('Content-Security-Policy')) html = html.replace(/<head>/i, `<head>\n    ${csp}`);
  if (/googletagmanager|https?:\/\/(?!www\.w3\.org)[a-z]/i.test(html.replace(/<script>[\s\S]*?<\/script>/g, ''))) {
    throw new Error(`${indexHtml} still refers to an external address after removing the analytics tag`);
  }
  writeFileSync(indexHtml, html);
}

interface HistoryPoint {
  uuid: string;
  name: string;
  timestamp: number;
  [k: string]: unknown;
}

function readHistory(path: string): HistoryPoint[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as HistoryPoint];
      } catch {
        return [];
      }
    });
}

/**
 * Keeps the entries `keep` accepts, dates each run's entry at the run's start (Allure stamps
 * "now"; a replayed run must sit where it happened) and orders them by time.
 */
function rewriteHistory(path: string, runs: Run[], keep: (p: HistoryPoint) => boolean): void {
  if (!existsSync(path)) return;
  const startOf = new Map(runs.map((r) => [reportName(r.runId), Date.parse(r.startedAt)]));
  const points = readHistory(path)
    .filter(keep)
    .map((p) => ({ ...p, timestamp: startOf.get(p.name) ?? p.timestamp }));
  points.sort((a, b) => a.timestamp - b.timestamp);
  writeFileSync(path, points.map((p) => `${JSON.stringify(p)}\n`).join(''));
}

/**
 * Copies the Allure vitest reporter's results (and their attachments) for one run; returns how
 * many. Their statuses go through honestStatus again: results written without the reporter's
 * listener (an older run, another vitest config) would show a hazard case as passed.
 */
function copyLiveResults(from: string, runId: string, to: string): number {
  if (!existsSync(from)) return 0;
  let n = 0;
  for (const f of readdirSync(from).filter((x) => x.endsWith('-result.json'))) {
    let r: { labels: { name: string; value: string }[]; status?: string; statusDetails?: { message?: string } };
    try {
      r = JSON.parse(readFileSync(join(from, f), 'utf8'));
    } catch {
      continue;
    }
    if (!r.labels?.some((l) => l.name === 'runId' && l.value === runId)) continue;
    honestStatus(r);
    writeFileSync(join(to, f), JSON.stringify(r));
    for (const src of sources(r)) if (existsSync(join(from, src))) copyFileSync(join(from, src), join(to, src));
    n++;
  }
  return n;
}

function sources(node: unknown): string[] {
  if (!node || typeof node !== 'object') return [];
  const n = node as { attachments?: { source?: string }[]; steps?: unknown[] };
  return [...(n.attachments ?? []).flatMap((a) => (a.source ? [a.source] : [])), ...(n.steps ?? []).flatMap(sources)];
}

function writeRegressionResult(w: ResultsWriter, d: RegressionDiff, md: string, runs: Run[], latest: Run): void {
  const worse = d.changes.filter((c) => c.direction === 'worse');
  const now = Date.parse(latest.startedAt);
  const lines = regressionLines(d);
  const profile = latest.records[0]?.profile ?? 'seed';
  w.writeResult({
    uuid: randomUUID(),
    testCaseId: 'mhc-regression-diff',
    name: d.previous
      ? `regression diff: ${worse.length} regression(s) since ${d.previous}`
      : `regression diff: ${noBaselineLines(d).join('; ') || 'no previous run'}`,
    fullName: 'report#regression diff',
    status: worse.length ? 'failed' : 'passed',
    statusDetails: worse.length ? { message: lines.filter((l) => l.startsWith('REGRESSION')).join('\n') } : {},
    stage: 'finished',
    start: now,
    stop: now,
    description: md,
    labels: [
      ...caseLabels({
        caseId: 'regression',
        caseTitle: 'regression diff',
        profile,
        target: latest.records[0]?.target ?? '',
        runId: latest.runId,
      }).filter((l) => !['case', 'caseId', 'feature'].includes(l.name)),
      { name: 'feature', value: 'regression diff' },
    ],
    parameters: [],
    links: [],
    steps: d.changes.map((c) => ({
      name: `${c.direction === 'worse' ? 'REGRESSION' : c.direction}: ${c.key}: ${c.kind} ${c.from} → ${c.to}`,
      status: c.direction === 'worse' ? 'failed' : 'passed',
      stage: 'finished',
      start: now,
      stop: now,
      steps: [],
      attachments: [],
      parameters: [],
    })),
    attachments: [
      w.attach('regression.md', md, 'text/markdown', 'md'),
      w.attach('time to failover per act, run by run', failoverTrendSvg(runs), 'image/svg+xml', 'svg'),
    ],
  });
}

/**
 * The profiles of the latest `npm run compare` (reports/compare/latest.json), compared again on
 * the runs the report has, so the entry is never older than them; undefined without one.
 */
function compareProfilesOf(reportsDir: string, runs: Run[]): Comparison | undefined {
  const f = join(reportsDir, 'compare', 'latest.json');
  if (!existsSync(f)) return undefined;
  const { profiles } = JSON.parse(readFileSync(f, 'utf8')) as { profiles: string[] };
  return compareProfiles(runs, profiles);
}

/** A "profile comparison" entry: passed only when the second profile played every act and passed each every time. */
function writeComparisonResult(w: ResultsWriter, c: Comparison | undefined, latest: Run): number {
  if (!c?.acts.length) return 0;
  const md = comparisonMarkdown(c);
  const now = Date.parse(latest.startedAt);
  const ok = allPass(c, c.profiles.length - 1);
  w.writeResult({
    uuid: randomUUID(),
    testCaseId: `mhc-compare-${c.profiles.join('-vs-')}`,
    name: `profile comparison: ${c.profiles.join(' vs ')}`,
    fullName: `report#profile comparison ${c.profiles.join(' vs ')}`,
    status: ok ? 'passed' : 'failed',
    statusDetails: ok ? {} : { message: `${c.profiles.at(-1)} did not pass every act every time` },
    stage: 'finished',
    start: now,
    stop: now,
    description: md,
    labels: [{ name: 'feature', value: 'profile comparison' }],
    parameters: [],
    links: [],
    steps: [],
    attachments: [w.attach('comparison.md', md, 'text/markdown', 'md')],
  });
  return 1;
}
