import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { judgeData } from './checks/data.js';
import { judgeAct } from './checks/verdict.js';
import { History, type HistoryEvent } from './history.js';
import { Profile } from './profile/load.js';
import { loadExpectations, type Expectation } from './profile/expectations.js';
import type { Run } from './report/regression.js';
import { type CaseRunRecord, judgedFields } from './results.js';
import { HarnessError } from './util/errors.js';

/** One verdict judged again from a saved history, beside the one the run recorded. */
export interface Rejudged {
  caseRun: string;
  /** The act id, or "data" for the case's data claim. */
  what: string;
  recorded?: string;
  now: string;
  detail: string;
}

const readHistory = (file: string) =>
  History.fromJSON(JSON.parse(readFileSync(file, 'utf8')) as { startedAt: string; events: HistoryEvent[] });

/** When an act began, as its ActResult's startedAt records it: the key between a record's acts and the history's act ends. */
const actStart = (h: History, from: number) => new Date(h.startedAt.getTime() + from).toISOString();

/** The saved case runs under PATH: a run directory, or one *.result.json / *.history.json. */
export function savedCaseRuns(path: string): { record: CaseRunRecord; history: History; name: string }[] {
  if (!existsSync(path))
    throw new HarnessError(`${path} does not exist`, 'give a run directory (reports/runs/<run>) or one of its *.result.json files');
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => f.endsWith('.result.json'))
        .map((f) => join(path, f))
    : [path.replace(/\.history\.json$/, '.result.json')];
  if (!files.length)
    throw new HarnessError(
      `${path} holds no *.result.json`,
      'give a run directory written by npm run chaos or npm test (reports/runs/<run>)',
    );
  return files.sort().map((f) => {
    const hf = f.replace(/\.result\.json$/, '.history.json');
    if (!existsSync(hf)) throw new HarnessError(`${basename(f)} has no history beside it (${basename(hf)} in ${dirname(f)})`);
    return {
      name: basename(f, '.result.json'),
      record: JSON.parse(readFileSync(f, 'utf8')) as CaseRunRecord,
      history: readHistory(hf),
    };
  });
}

/**
 * Every act and data verdict of the saved case runs, judged again from their histories alone
 * against the profile's current expectations (no cluster is asked anything).
 */
export function rejudge(path: string, expectationsOf: (profile: string) => Record<string, Expectation> = currentExpectations): Rejudged[] {
  const out: Rejudged[] = [];
  for (const { record, history, name } of savedCaseRuns(path)) {
    const expectations = expectationsOf(record.profile);
    const ends = history.actEnds();
    if (!ends.length && record.acts.length)
      throw new HarnessError(
        `${name}: its history has no act events (recorded before acts were structured events); it cannot be judged again`,
      );
    for (const end of ends) {
      const e = expectations[end.act];
      const recorded =
        record.acts.find((a) => a.act === end.act && a.startedAt === actStart(history, end.from)) ??
        record.acts.find((a) => a.act === end.act);
      if (!e) {
        out.push({
          caseRun: name,
          what: end.act,
          recorded: recorded?.verdict,
          now: 'no expectation',
          detail: `profile ${record.profile} has no expectation for ${end.act}`,
        });
        continue;
      }
      const j = judgeAct(history, end, e);
      out.push({
        caseRun: name,
        what: end.act,
        recorded: recorded?.verdict,
        now: j.verdict,
        detail: j.inconclusive ?? (j.mismatches.join('; ') || j.seen),
      });
    }
    if (record.data && record.runKey) {
      const d = judgeData(history, record.runKey);
      out.push({
        caseRun: name,
        what: 'data',
        recorded: record.data.verdict,
        now: d.verdict,
        detail:
          d.inconclusive ??
          (d.problems.join('; ') ||
            `${d.writes.ok}/${d.writes.total} acknowledged (${d.ackedBeforeFault} before the first fault), none lost`),
      });
    }
  }
  return out;
}

/**
 * Saved runs with every act's verdict judged again from its history against the profile's current
 * expectations (budgets and hazards change after a run; `npm run compare` shows what they say now).
 * A case run whose history or profile is gone keeps what it recorded.
 */
export function rejudgedRuns(runs: Run[], runsDir: string, expectationsOf = currentExpectations): Run[] {
  return runs.map((run) => ({ ...run, records: run.records.map((r) => rejudgedRecord(join(runsDir, run.runId), r, expectationsOf)) }));
}

function rejudgedRecord(
  dir: string,
  record: CaseRunRecord,
  expectationsOf: (profile: string) => Record<string, Expectation>,
): CaseRunRecord {
  const f = join(dir, `${record.caseId}.rep${record.repetition}.history.json`);
  let expectations: Record<string, Expectation>;
  try {
    expectations = expectationsOf(record.profile);
  } catch {
    return record;
  }
  if (!existsSync(f)) return record;
  const history = readHistory(f);
  const ends = history.actEnds();
  const acts = record.acts.map((a) => {
    const end = ends.find((x) => x.act === a.act && actStart(history, x.from) === a.startedAt) ?? ends.find((x) => x.act === a.act);
    const e = expectations[a.act];
    if (!end || !e) return a;
    const { operatorInstead: _, ...rest } = a;
    return { ...rest, ...judgedFields(judgeAct(history, end, e), a.outcome) };
  });
  return { ...record, acts };
}

const cache = new Map<string, Record<string, Expectation>>();
function currentExpectations(profile: string): Record<string, Expectation> {
  if (!cache.has(profile)) cache.set(profile, loadExpectations(Profile.load(profile)));
  return cache.get(profile)!;
}
