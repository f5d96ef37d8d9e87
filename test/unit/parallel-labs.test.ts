import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { claimWorkerSlot, defaultParallel, forgetClaimForTests, releaseRunSlots, runLabs, workerLab } from '../../lib/parallel-labs.js';
import { procStart } from '../../lib/targets/netns/state.js';
import { resolveRunConfig } from '../../lib/run-config.js';

const GiB = 2 ** 30;

describe('parallel labs (--parallel N)', () => {
  it('gives each worker a lab of its own name and subnet; one lab keeps the run own', () => {
    expect(runLabs({ name: 'suite' }, '10.11.22.0/24', 1)).toEqual([{ name: 'suite' }]);
    expect(runLabs({ name: 'suite', subnet: '10.11.40.0/24' }, '10.11.22.0/24', 1)).toEqual([{ name: 'suite', subnet: '10.11.40.0/24' }]);
    expect(runLabs({ name: 'suite' }, '10.11.22.0/24', 3)).toEqual([
      { name: 'suite-1', subnet: '10.11.22.0/24' },
      { name: 'suite-2', subnet: '10.11.23.0/24' },
      { name: 'suite-3', subnet: '10.11.24.0/24' },
    ]);
    expect(workerLab({ name: 'x', subnet: '10.50.7.0/24' }, '10.11.22.0/24', 2, 2)).toEqual({ name: 'x-2', subnet: '10.50.8.0/24' });
  });

  it('refuses a worker without a lab and subnets past .255', () => {
    expect(() => workerLab({ name: 'suite' }, '10.11.22.0/24', 2, 3)).toThrow(/^worker 3 has no lab: the run has 2/);
    expect(() => runLabs({ name: 'suite' }, '10.11.254.0/24', 3)).toThrow(/--parallel 3 needs 3 subnets after 10\.11\.254\.0\/24/);
  });

  it('defaults to what the cores and memory hold: a lab per core and per 3 GiB', () => {
    expect(defaultParallel(2, 24 * GiB)).toBe(2);
    expect(defaultParallel(1, 24 * GiB)).toBe(1);
    expect(defaultParallel(8, 24 * GiB)).toBe(8);
    expect(defaultParallel(16, 8 * GiB)).toBe(2);
    expect(defaultParallel(4, 5 * GiB)).toBe(1);
  });

  it('is a run option: the flag over MHC_PARALLEL over the default, netns labs of the run own only', () => {
    expect(resolveRunConfig({ parallel: '2' }, { MHC_PARALLEL: '3' }).parallel).toBe(2);
    expect(resolveRunConfig({}, { MHC_PARALLEL: '3' }).parallel).toBe(3);
    expect(resolveRunConfig({ target: 'containers' }, {}).parallel).toBe(1);
    expect(() => resolveRunConfig({ parallel: '0' }, {})).toThrow(/^bad run option --parallel: a whole number 1–8 \(got 0\)$/);
    expect(() => resolveRunConfig({ parallel: 'two' }, {})).toThrow(/^bad run option --parallel: a whole number 1–8 \(got "two"\)$/);
    expect(() => resolveRunConfig({ parallel: '2', target: 'containers' }, {})).toThrow(
      /labs of its own on the netns target: not with --target containers/,
    );
    expect(() => resolveRunConfig({ parallel: '2', labAttach: 'lab' }, {})).toThrow(/not with --lab lab/);
    expect(() => resolveRunConfig({ parallel: '2', labName: 'abcdefghijk' }, {})).toThrow(/a lab name of at most 10 characters/);
  });
});

describe("a worker's lab slot (claimWorkerSlot): vitest's pool id is no lab number", () => {
  const dirs: string[] = [];
  const slotsDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'mhc-slots-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => forgetClaimForTests());
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('skips a slot a live process holds and takes over one whose process is gone', () => {
    const dir = slotsDir();
    const parent = { pid: process.ppid, start: procStart(process.ppid) };
    writeFileSync(join(dir, 'run-a.1.json'), JSON.stringify(parent));
    expect(claimWorkerSlot('run-a', 3, dir)).toBe(2);
    forgetClaimForTests();
    const dir2 = slotsDir();
    writeFileSync(join(dir2, 'run-b.1.json'), JSON.stringify({ pid: 2 ** 22 + 1, start: '1' }));
    expect(claimWorkerSlot('run-b', 2, dir2)).toBe(1);
    expect(JSON.parse(readFileSync(join(dir2, 'run-b.1.json'), 'utf8')).pid).toBe(process.pid);
  });

  it('a slot file still being written (no holder yet) is held; one left unreadable for long is stale', () => {
    const dir = slotsDir();
    writeFileSync(join(dir, 'run-g.1.json'), '');
    expect(claimWorkerSlot('run-g', 2, dir)).toBe(2);
    forgetClaimForTests();
    const dir2 = slotsDir();
    writeFileSync(join(dir2, 'run-h.1.json'), '');
    const minuteAgo = new Date(Date.now() - 60_000);
    utimesSync(join(dir2, 'run-h.1.json'), minuteAgo, minuteAgo);
    expect(claimWorkerSlot('run-h', 2, dir2)).toBe(1);
  });

  it('is claimed once per process; one lab needs no slot; all held is a clear error', () => {
    const dir = slotsDir();
    expect(claimWorkerSlot('run-c', 1, dir)).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
    forgetClaimForTests();
    const parent = JSON.stringify({ pid: process.ppid, start: procStart(process.ppid) });
    for (const k of [1, 2]) writeFileSync(join(dir, `run-d.${k}.json`), parent);
    expect(() => claimWorkerSlot('run-d', 2, dir)).toThrow(
      /no lab is free for this worker: the 2 lab slots of run run-d are held by live processes/,
    );
  });

  it('gives workers started at once distinct slots, each freed when its worker exits', async () => {
    const dir = slotsDir();
    const code = `import { claimWorkerSlot } from './lib/parallel-labs.ts'; console.log(claimWorkerSlot('run-e', 3, ${JSON.stringify(dir)})); setTimeout(() => {}, 1500);`;
    const worker = () => execa('npx', ['tsx', '--eval', code], { cwd: join(import.meta.dirname, '../..'), timeout: 30_000 });
    const slots = (await Promise.all([worker(), worker(), worker()])).map((r) => Number(r.stdout.trim()));
    expect(slots.sort()).toEqual([1, 2, 3]);
    // Each exited normally and removed its own; a run's teardown removes what killed workers left.
    expect(readdirSync(dir)).toEqual([]);
    writeFileSync(join(dir, 'run-e.1.json'), '{}');
    writeFileSync(join(dir, 'run-f.1.json'), '{}');
    releaseRunSlots('run-e', dir);
    expect(readdirSync(dir)).toEqual(['run-f.1.json']);
  });
});
