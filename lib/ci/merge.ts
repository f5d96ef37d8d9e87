import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { caseChecks, gatingChecks } from '../checks/case-checks.js';
import type { CaseRunRecord } from '../results.js';
import { HarnessError } from '../util/errors.js';

/** What ci:shard leaves beside its results: which files it was given and how it ended. */
export interface ShardRecord {
  shard: string;
  runId: string;
  files: string[];
  /** The notebook row number of each of those files (a row may be several files): each must leave results (case ids N or N-…). */
  cases: string[];
  exitCode: number;
  /** The shard's own case records, as ci:merge read them from its folder (absent: judged against every shard's). */
  own?: CaseRunRecord[];
}

export const SHARD_RECORD = 'shard.json';

/** Every shard's record; they must share one run id (the workflow gives them one). */
export function readShards(dirs: string[]): ShardRecord[] {
  const shards = dirs.map((d) => {
    const f = join(d, SHARD_RECORD);
    if (!existsSync(f)) throw new HarnessError(`--from ${d}: no ${SHARD_RECORD} (not a ci:shard result, or the shard died before it ran)`);
    return JSON.parse(readFileSync(f, 'utf8')) as ShardRecord;
  });
  const ids = [...new Set(shards.map((s) => s.runId))];
  if (ids.length !== 1)
    throw new HarnessError(`the shards ran as different runs (${ids.join(', ')})`, 'give every shard the same --run-id');
  return shards;
}

/** Copies every shard's run records, histories and Allure results into one reports directory. */
export function mergeShardResults(dirs: string[], runId: string, out: string): void {
  for (const d of dirs) {
    const run = join(d, 'runs', runId);
    if (existsSync(run)) cpSync(run, join(out, 'runs', runId), { recursive: true });
    const allure = join(d, 'allure-results');
    if (existsSync(allure)) cpSync(allure, join(out, 'allure-results'), { recursive: true });
  }
}

/** A previous night's merged output: its Allure history and its runs' result records (not their histories). */
export function carryPrevious(previous: string, out: string): void {
  const history = join(previous, 'history.jsonl');
  if (!existsSync(history))
    throw new HarnessError(
      `--previous ${previous}: no history.jsonl there`,
      'give the folder an earlier ci:merge wrote (--out), or leave --previous out on the first run',
    );
  mkdirSync(out, { recursive: true });
  cpSync(history, join(out, 'history.jsonl'));
  const runs = join(previous, 'runs');
  if (!existsSync(runs)) return;
  for (const runId of readdirSync(runs)) {
    cpSync(join(runs, runId), join(out, 'runs', runId), { recursive: true, filter: (src) => !src.endsWith('.history.json') });
  }
}

/** One JUnit file from the shards' (their <testsuite> elements side by side). */
export function mergeJunit(files: string[]): string {
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  let errors = 0;
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' });
  for (const f of files.filter(existsSync)) {
    const text = readFileSync(f, 'utf8');
    const root = parser.parse(text)?.testsuites ?? {};
    tests += Number(root.tests ?? 0);
    failures += Number(root.failures ?? 0);
    errors += Number(root.errors ?? 0);
    suites.push(...(text.match(/<testsuite\b[\s\S]*?<\/testsuite>/g) ?? []));
  }
  return `<?xml version="1.0" encoding="UTF-8" ?>\n<testsuites name="mysql-ha-chaos" tests="${tests}" failures="${failures}" errors="${errors}">\n${suites.join('\n')}\n</testsuites>\n`;
}

/**
 * The night's verdict, the same rules as a case's test: fail and inconclusive always count, hazards
 * only when strict; a shard that left a case without a result, or died, counts as inconclusive.
 */
export function nightProblems(shards: ShardRecord[], records: CaseRunRecord[], strict: boolean): string[] {
  const problems = shards.flatMap((s) => missingResults(s, s.own ?? records));
  for (const s of shards) {
    const mine = s.own ?? records;
    if (s.exitCode !== 0 && !mine.some((r) => s.cases.some((c) => ofRow(r, c))))
      problems.push(`shard ${s.shard} ended with exit ${s.exitCode} and no result`);
  }
  const byCase = new Map<string, CaseRunRecord[]>();
  for (const r of records) byCase.set(r.caseId, [...(byCase.get(r.caseId) ?? []), r]);
  for (const [id, recs] of byCase) {
    for (const c of gatingChecks(caseChecks(recs), strict)) {
      if (c.problems.length) problems.push(`${c.kind}: case ${id}: ${c.failure}: ${c.problems.join('; ')}`);
    }
  }
  return problems;
}

const ofRow = (r: CaseRunRecord, row: string) => r.caseId === row || r.caseId.startsWith(`${row}-`);

/**
 * A shard's rows without their results: each of its files defines cases of its own (row 4's six
 * files, one case each), so a row needs as many distinct case ids from this shard as it had files.
 * Its own records, not every shard's: a row split over two shards is not covered by the other one.
 */
function missingResults(s: ShardRecord, mine: CaseRunRecord[]): string[] {
  return [...new Set(s.cases)].flatMap((c) => {
    const files = s.cases.filter((x) => x === c).length;
    const ids = new Set(mine.filter((r) => ofRow(r, c)).map((r) => r.caseId)).size;
    if (ids >= files) return [];
    return [
      ids
        ? `inconclusive: case ${c} (shard ${s.shard}) left results for ${ids} of its ${files} files`
        : `inconclusive: case ${c} (shard ${s.shard}) left no result`,
    ];
  });
}

/** "scenarios/05-corosync-stop.test.ts" → "5". */
export const rowOfFile = (file: string) => /(?:^|\/)0*(\d+)-[^/]*$/.exec(file)?.[1] ?? file;
