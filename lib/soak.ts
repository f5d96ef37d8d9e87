import { XMLParser } from 'fast-xml-parser';

/** What a soak (npm run soak) records and prints: see scripts/soak.ts. */
export interface TestOutcome {
  name: string;
  failed: boolean;
  firstError?: string;
}
export interface SoakRun {
  run: number;
  exitCode: number | null;
  ms: number;
  tests: TestOutcome[];
  note?: string;
}

/** Test cases of a vitest junit.xml: file > name, and the first line of the failure, if any. */
export function parseJunit(xml: string): TestOutcome[] {
  const doc = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    isArray: (n) => n === 'testsuite' || n === 'testcase',
  }).parse(xml);
  const out: TestOutcome[] = [];
  for (const suite of doc.testsuites?.testsuite ?? []) {
    for (const c of suite.testcase ?? []) {
      const f = c.failure ?? c.error;
      const text = f === undefined ? undefined : typeof f === 'string' ? f : String(f.message ?? f['#text'] ?? '');
      out.push({
        name: `${c.classname} > ${c.name}`,
        failed: f !== undefined,
        firstError: text
          ?.split('\n')
          .map((l: string) => l.trim())
          .find(Boolean)
          ?.slice(0, 200),
      });
    }
  }
  return out;
}

/** The soak's tables: one line per run, then every test that failed at least once. */
export function soakTable(runs: SoakRun[], ref: string): string {
  const lines = [
    `# Soak: ${runs.length} clean-clone runs of .ci/run at ${ref}`,
    '',
    '| run | exit | wall | tests | failed |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const r of runs)
    lines.push(
      `| ${r.run} | ${r.exitCode} | ${(r.ms / 60_000).toFixed(1)} min | ${r.tests.length} | ${r.tests.filter((t) => t.failed).length}${r.note ? ` (${r.note})` : ''} |`,
    );
  const green = runs.filter((r) => r.exitCode === 0).length;
  lines.push('', `${green} of ${runs.length} runs green.`, '');
  const failures = new Map<string, { n: number; first: string }>();
  for (const r of runs)
    for (const t of r.tests.filter((x) => x.failed)) {
      const f = failures.get(t.name) ?? { n: 0, first: t.firstError ?? '' };
      f.n++;
      failures.set(t.name, f);
    }
  if (!failures.size) return [...lines, 'No test failed in any run.'].join('\n');
  lines.push('| test | failed runs | first error line |', '| --- | --- | --- |');
  for (const [name, f] of [...failures].sort((a, b) => b[1].n - a[1].n))
    lines.push(`| ${name} | ${f.n}/${runs.length} | ${f.first.replace(/\|/g, '\\|')} |`);
  return lines.join('\n');
}
