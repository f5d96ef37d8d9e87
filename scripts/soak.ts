import { spawn, spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseJunit, soakTable, type SoakRun, type TestOutcome } from '../lib/soak.js';
import { runMain } from '../lib/cli/main.js';
import { REPORTS_DIR } from '../lib/results.js';
import { HarnessError } from '../lib/util/errors.js';

const USAGE = `usage: npm run soak -- --runs N [--ref HEAD]
  Runs CI's whole path (.ci/run: apt check, npm ci, npm test) N times, each from a fresh clone of
  this repository's commit REF, one after the other, and tabulates per test how many runs it
  failed and with which first error line. Tables and each run's log and junit.xml go to
  reports/soak/<stamp>/ (with each run's reports/runs). Each run ends with \`lab down --all\`, as
  CI does: do not run labs of your own meanwhile.`;

const ROOT = resolve(import.meta.dirname, '..');
/** CI's own limit for one .ci/run. */
const RUN_LIMIT_MS = 90 * 60_000;

async function soakOnce(i: number, ref: string, dir: string): Promise<SoakRun> {
  const clone = join(tmpdir(), `mhc-soak-${process.pid}-${i}`);
  rmSync(clone, { recursive: true, force: true });
  const c = spawnSync('git', ['clone', '--quiet', '--no-hardlinks', ROOT, clone], { encoding: 'utf8' });
  if (c.status !== 0) throw new HarnessError(`soak run ${i}: git clone failed: ${c.stderr.trim()}`);
  spawnSync('git', ['-C', clone, 'checkout', '--quiet', ref], { encoding: 'utf8' });
  const runDir = join(dir, `run-${i}`);
  mkdirSync(runDir, { recursive: true });
  const log = openSync(join(runDir, 'ci.log'), 'w');
  const t0 = performance.now();
  // Its own process group, ended by PID at CI's limit; MHC_REPORTS_DIR keeps its reports apart.
  const child = spawn('bash', ['.ci/run'], {
    cwd: clone,
    stdio: ['ignore', log, log],
    detached: true,
    env: { ...process.env, MHC_REPORTS_DIR: join(clone, 'reports') },
  });
  const exitCode = await new Promise<number | null>((res) => {
    const limit = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* gone */
      }
    }, RUN_LIMIT_MS);
    child.on('exit', (code) => {
      clearTimeout(limit);
      res(code);
    });
  });
  closeSync(log);
  const ms = Math.round(performance.now() - t0);
  const junit = join(clone, 'reports', 'junit.xml');
  let tests: TestOutcome[] = [];
  let note: string | undefined;
  if (existsSync(junit)) {
    writeFileSync(join(runDir, 'junit.xml'), readFileSync(junit));
    tests = parseJunit(readFileSync(junit, 'utf8'));
  } else {
    note = `no junit.xml: ${readFileSync(join(runDir, 'ci.log'), 'utf8').trim().split('\n').at(-1) ?? ''}`;
  }
  // The case results (outcomes, timings) of the run: the distributions budgets are set from.
  const runs = join(clone, 'reports', 'runs');
  if (existsSync(runs)) cpSync(runs, join(runDir, 'runs'), { recursive: true });
  rmSync(clone, { recursive: true, force: true });
  return { run: i, exitCode, ms, tests, note };
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { runs: { type: 'string', default: '10' }, ref: { type: 'string', default: 'HEAD' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const n = Number(values.runs);
  if (!Number.isInteger(n) || n < 1) throw new HarnessError(`--runs must be a positive whole number, got "${values.runs}"`, USAGE);
  const ref = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', values.ref], { encoding: 'utf8' }).stdout.trim();
  if (!ref) throw new HarnessError(`--ref ${values.ref} is not a commit of this repository`);
  const dir = join(REPORTS_DIR, 'soak', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(dir, { recursive: true });
  const runs: SoakRun[] = [];
  for (let i = 1; i <= n; i++) {
    process.stderr.write(`soak: run ${i}/${n} (${ref})\n`);
    runs.push(await soakOnce(i, ref, dir));
    const table = soakTable(runs, ref);
    writeFileSync(join(dir, 'soak.md'), `${table}\n`);
    process.stderr.write(`soak: run ${i}: exit ${runs.at(-1)!.exitCode} in ${(runs.at(-1)!.ms / 60_000).toFixed(1)} min\n`);
  }
  process.stdout.write(`${soakTable(runs, ref)}\n\n(written to ${dir}/soak.md)\n`);
  return runs.every((r) => r.exitCode === 0) ? 0 : 1;
}

runMain(() => main(process.argv.slice(2)));
