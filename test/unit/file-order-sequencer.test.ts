import type { TestSpecification, Vitest } from 'vitest/node';
import { describe, expect, it } from 'vitest';
import FileOrderSequencer from '../../lib/vitest/file-order-sequencer.js';

// Specifications as vitest hands them to a sequencer: the project's name, order and workers.
const project = (name: string, groupOrder: number, maxWorkers: number) => ({
  name,
  config: { sequence: { groupOrder }, maxWorkers, isolate: true },
});
const spec = (p: ReturnType<typeof project>, file: string) => ({ project: p, moduleId: `/repo/${file}` }) as unknown as TestSpecification;

// vitest's cache of the last run: the scenario files' durations.
const lastRun: Record<string, number> = {
  'scenarios/01-network-down.test.ts': 22_000,
  'scenarios/04-kill-pacemaker-attrd.test.ts': 13_000,
  'scenarios/07-forced-move.test.ts': 36_000,
};
const sequencer = () =>
  new FileOrderSequencer({
    config: { root: '/repo' },
    cache: {
      getFileTestResults: (key: string) => {
        const d = lastRun[key.split(':')[1]!];
        return d === undefined ? undefined : { failed: false, duration: d };
      },
    },
  } as unknown as Vitest);

const FILES = Object.keys(lastRun);
const order = (specs: TestSpecification[]) => specs.map((s) => s.moduleId.replace('/repo/', ''));

describe('the file order', () => {
  it('is the names, whatever the cache says, where a project runs one file at a time', async () => {
    const serial = project('scenarios', 2, 1);
    const integration = project('integration', 1, 1);
    const files = [...FILES].reverse().map((f) => spec(serial, f));
    expect(order(await sequencer().sort([...files, spec(integration, 'test/integration/b.test.ts')]))).toEqual([
      'test/integration/b.test.ts',
      ...FILES,
    ]);
  });

  it('is the slowest first on parallel labs, the names where the cache knows none of them', async () => {
    const parallel = project('scenarios', 2, 3);
    expect(order(await sequencer().sort(FILES.map((f) => spec(parallel, f))))).toEqual([
      'scenarios/07-forced-move.test.ts',
      'scenarios/01-network-down.test.ts',
      'scenarios/04-kill-pacemaker-attrd.test.ts',
    ]);
    const unknown = ['scenarios/05-corosync-stop.test.ts', 'scenarios/02-pacemaker-stop.test.ts'];
    expect(order(await sequencer().sort(unknown.map((f) => spec(parallel, f))))).toEqual([...unknown].reverse());
    // Files without a timing (new ones, as row 4's were on their first run) before the timed ones, by name.
    expect(order(await sequencer().sort([...FILES, ...unknown].map((f) => spec(parallel, f))))).toEqual([
      'scenarios/02-pacemaker-stop.test.ts',
      'scenarios/05-corosync-stop.test.ts',
      'scenarios/07-forced-move.test.ts',
      'scenarios/01-network-down.test.ts',
      'scenarios/04-kill-pacemaker-attrd.test.ts',
    ]);
  });
});
