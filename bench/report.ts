import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildReport } from '../lib/report/build.js';
import { readRuns } from '../lib/report/regression.js';

// npm run bench:report — builds the report for a run of 50 scenario results (the real lab results
// in reports/runs replicated), with one earlier run for history and the regression diff.
// Target: ≤ 10 s on 2 cores.

const N = Number(process.env.MHC_BENCH_RESULTS ?? 50);
const TARGET_MS = 10_000;
const REPORTS = resolve(import.meta.dirname, '../reports');

const runs = readRuns(REPORTS).filter((r) => r.records.length > 0);
if (!runs.length) throw new Error('no results in reports/runs to replicate');
// The richest run is the template.
const template = [...runs].sort((a, b) => b.records.length - a.records.length)[0]!;
const work = mkdtempSync(join(tmpdir(), 'mhc-bench-report-'));
try {
  const prevId = '2026-01-01T00-00-00-000Z',
    curId = '2026-01-02T00-00-00-000Z';
  cpSync(join(REPORTS, 'runs', template.runId), join(work, 'runs', prevId), { recursive: true });
  const dir = join(work, 'runs', curId);
  mkdirSync(dir, { recursive: true });
  const files = readdirSync(join(REPORTS, 'runs', template.runId)).filter((f) => f.endsWith('.result.json'));
  for (let i = 0; i < N; i++) {
    const f = files[i % files.length]!;
    const copy = Math.floor(i / files.length);
    const r = JSON.parse(readFileSync(join(REPORTS, 'runs', template.runId, f), 'utf8'));
    const caseId = copy ? `${r.caseId}-copy${copy}` : r.caseId;
    const shift = (iso?: string) => (iso ? new Date(Date.parse(iso) + 86_400_000).toISOString() : iso);
    const rec = {
      ...r,
      runId: curId,
      caseId,
      startedAt: shift(r.startedAt ?? r.acts[0]?.startedAt),
      acts: r.acts.map((a: Record<string, unknown>) => ({ ...a, runId: curId, caseId, startedAt: shift(a.startedAt as string) })),
    };
    const base = `${caseId}.rep${r.repetition}`;
    writeFileSync(join(dir, `${base}.result.json`), JSON.stringify(rec));
    const h = join(REPORTS, 'runs', template.runId, f.replace('.result.json', '.history.json'));
    if (existsSync(h)) writeFileSync(join(dir, `${base}.history.json`), readFileSync(h));
  }
  const t0 = performance.now();
  const r = await buildReport({ reportsDir: work, allureResults: join(work, 'none') });
  const ms = performance.now() - t0;
  console.log(
    `bench:report: ${N} scenario results (+ regression diff, 1 earlier run in the history) → ${r.tests} Allure results, report built in ${(ms / 1000).toFixed(2)} s (target ≤ ${TARGET_MS / 1000} s) ${ms <= TARGET_MS ? 'OK' : 'TOO SLOW'}`,
  );
  process.exitCode = ms <= TARGET_MS ? 0 : 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
