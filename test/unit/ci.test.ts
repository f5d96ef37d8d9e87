import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { mergeJunit, nightProblems, rowOfFile, type ShardRecord } from '../../lib/ci/merge.js';
import { parseShard, shardFiles } from '../../lib/ci/shard.js';
import { scenarioFiles } from '../../lib/cli/run-scenarios.js';
import type { CaseRunRecord } from '../../lib/results.js';

// A whole npm test run's records (fixtures/judge): every act pass or hazard, every audit ok.
const RUN = new URL('../../fixtures/judge/2026-11-28T03-29-32-853Z/', import.meta.url).pathname;
const records = (): CaseRunRecord[] =>
  readdirSync(RUN)
    .filter((f) => f.endsWith('.result.json'))
    .map((f) => JSON.parse(readFileSync(join(RUN, f), 'utf8')) as CaseRunRecord);
const FILES = [
  '01-network-down',
  '02-pacemaker-stop',
  '03-kill-pacemakerd',
  '04-kill-child-daemon',
  '05-corosync-stop',
  '06-kill-corosync',
  '07-forced-move',
].map((f) => `scenarios/${f}.test.ts`);
const shard = (s: string, files: string[], exitCode = 0): ShardRecord => ({
  shard: s,
  runId: 'r',
  files,
  cases: files.map(rowOfFile),
  exitCode,
});

describe('ci shards', () => {
  it('splits the files round-robin and refuses a shard without a file', () => {
    expect(shardFiles(FILES, parseShard('1/2')).map(rowOfFile)).toEqual(['1', '3', '5', '7']);
    expect(shardFiles(FILES, parseShard('2/2')).map(rowOfFile)).toEqual(['2', '4', '6']);
    expect(() => shardFiles(FILES, parseShard('8/8'))).toThrow(/^8 shards for 7 scenario file\(s\): every shard needs at least one/);
    for (const bad of ['0/2', '3/2', '2', 'a/b', '1/0']) expect(() => parseShard(bad), bad).toThrow(/is not I\/N with 1 ≤ I ≤ N/);
  });
});

describe("the night's verdict", () => {
  const shards = [shard('1/2', shardFiles(FILES, parseShard('1/2'))), shard('2/2', shardFiles(FILES, parseShard('2/2')))];

  it('is green for passes and hazards, red for hazards when strict', () => {
    expect(nightProblems(shards, records(), false)).toEqual([]);
    const strict = nightProblems(shards, records(), true);
    expect(strict.length).toBeGreaterThan(0);
    expect(strict.every((p) => p.startsWith('hazard: case '))).toBe(true);
  });

  it("is green in strict mode for a hazard that is only the operator's own command, and still red for any other (doctored runs)", () => {
    const instead = 'crm_attribute --promotion=p_mariadb --node db2 --update 100';
    const operatorOnly = records().map((r) => ({
      ...r,
      acts: r.acts.map((a) => (a.verdict === 'hazard' ? { ...a, operatorInstead: instead } : a)),
    }));
    expect(nightProblems(shards, operatorOnly, true)).toEqual([]);
    const oneLeft = operatorOnly.map((r) => (r.caseId === '5' ? { ...r, acts: r.acts.map(({ operatorInstead: _, ...a }) => a) } : r));
    expect(nightProblems(shards, oneLeft, true)).toEqual([expect.stringMatching(/^hazard: case 5: known dangerous state/)]);
  });

  it('is red for a failed act, an unhealthy end, and a case a shard left without result (doctored runs)', () => {
    const failed = records().map((r) =>
      r.caseId === '5' ? { ...r, acts: r.acts.map((a) => ({ ...a, verdict: 'fail' as const, mismatches: ['planted'] })) } : r,
    );
    expect(nightProblems(shards, failed, false)).toEqual([expect.stringMatching(/^fail: case 5: .*planted/)]);
    const unhealthy = records().map((r) => (r.caseId === '1' ? { ...r, audits: [{ audit: 'vip', ok: false, detail: 'planted' }] } : r));
    expect(nightProblems(shards, unhealthy as CaseRunRecord[], false)).toEqual([expect.stringMatching(/^fail: case 1: audits .*planted/)]);
    const withoutCase4 = records().filter((r) => !r.caseId.startsWith('4-'));
    expect(nightProblems(shards, withoutCase4, false)).toEqual(['inconclusive: case 4 (shard 2/2) left no result']);
    const dead = [shards[0]!, { ...shards[1]!, exitCode: -1 }];
    expect(
      nightProblems(
        dead,
        records().filter((r) => !['2', '4', '6'].some((n) => r.caseId === n || r.caseId.startsWith(`${n}-`))),
        false,
      ),
    ).toEqual([
      'inconclusive: case 2 (shard 2/2) left no result',
      'inconclusive: case 4 (shard 2/2) left no result',
      'inconclusive: case 6 (shard 2/2) left no result',
      'shard 2/2 ended with exit -1 and no result',
    ]);
  });
});

describe("the night's verdict with a row split over shards (row 4: a file per child daemon)", () => {
  // The case ids each scenario file defines (scenarios/*.test.ts).
  const idsOf = (file: string): string[] => {
    const name = file.replace(/^scenarios\/|\.test\.ts$/g, '');
    if (name.startsWith('04-kill-')) return [name.replace('04-kill-', '4-')];
    const ids: Record<string, string[]> = {
      '01-network-down': ['1'],
      '02-pacemaker-stop': ['2-stop', '2-restart'],
      '03-kill-pacemakerd': ['3'],
      '03-then-corosync-stop': ['3-follow-on'],
      '05-corosync-stop': ['5'],
      '06-kill-corosync': ['6'],
      '07-forced-move': ['7'],
    };
    return ids[name]!;
  };
  const files = scenarioFiles();
  const split = ['1/2', '2/2'].map((x) => shardFiles(files, parseShard(x)));
  const ownRecords = (fs: string[]) => records().filter((r) => fs.flatMap(idsOf).includes(r.caseId));
  const shardOf = (i: number, own: CaseRunRecord[], exitCode = 0): ShardRecord => ({
    ...shard(`${i + 1}/2`, split[i]!, exitCode),
    own,
  });

  it('both shards split row 4; each complete: green', () => {
    expect(split.map((fs) => fs.filter((f) => f.includes('/04-')).length)).toEqual([3, 3]);
    const shards = split.map((fs, i) => shardOf(i, ownRecords(fs)));
    expect(nightProblems(shards, records(), false)).toEqual([]);
  });

  it("a shard that died is not covered by the other's row-4 results, nor one that left some of its files (doctored)", () => {
    const dead = [shardOf(0, ownRecords(split[0]!)), shardOf(1, [], 1)];
    const problems = nightProblems(dead, ownRecords(split[0]!), false);
    expect(problems).toContain('inconclusive: case 4 (shard 2/2) left no result');
    expect(problems).toContain('shard 2/2 ended with exit 1 and no result');
    const row4of2 = split[1]!.filter((f) => f.includes('/04-'));
    const partial = ownRecords(split[1]!).filter((r) => !idsOf(row4of2[0]!).includes(r.caseId));
    expect(nightProblems([shardOf(0, ownRecords(split[0]!)), shardOf(1, partial, 1)], records(), false)).toEqual([
      'inconclusive: case 4 (shard 2/2) left results for 2 of its 3 files',
    ]);
  });
});

describe('merged JUnit', () => {
  it("keeps every shard's suites and sums the counts", () => {
    const d = mkdtempSync(join(tmpdir(), 'mhc-junit-'));
    onTestFinished(() => rmSync(d, { recursive: true, force: true }));
    const suite = (name: string, failures: number) =>
      `<?xml version="1.0" encoding="UTF-8" ?>\n<testsuites name="vitest tests" tests="2" failures="${failures}" errors="0" time="1">\n<testsuite name="${name}" tests="2" failures="${failures}"><testcase name="a"/></testsuite>\n</testsuites>\n`;
    writeFileSync(join(d, 'a.xml'), suite('scenarios/01-network-down.test.ts', 0));
    writeFileSync(join(d, 'b.xml'), suite('scenarios/02-pacemaker-stop.test.ts', 1));
    const merged = mergeJunit([join(d, 'a.xml'), join(d, 'b.xml'), join(d, 'missing.xml')]);
    expect(merged).toMatch(/<testsuites name="mysql-ha-chaos" tests="4" failures="1" errors="0">/);
    expect(merged.match(/<testsuite /g)).toHaveLength(2);
  });
});
