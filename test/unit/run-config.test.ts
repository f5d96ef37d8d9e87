import { describe, expect, it } from 'vitest';
import { checkRun, scenarioFiles } from '../../lib/cli/run-scenarios.js';
import { PACEMAKER_CHILDREN } from '../../lib/probes/processes.js';
import { defaultParallel } from '../../lib/parallel-labs.js';
import { resolveRunConfig } from '../../lib/run-config.js';
import { PROVIDERS, providerFor } from '../../lib/targets/providers.js';

describe('run configuration', () => {
  it('takes the CLI over the environment over the defaults', () => {
    const env = { MHC_PROFILE: 'seed', MHC_STRICT: '1', MHC_REPEAT: '3', MHC_SUBNET: '10.11.40.0/24', MHC_OBSERVER: 'events' };
    const c = resolveRunConfig({ repeat: 2, runId: 'r1' }, env);
    expect(c).toEqual({
      runId: 'r1',
      profile: 'seed',
      target: 'netns',
      strict: true,
      observer: 'events',
      repeat: 2,
      parallel: defaultParallel(),
      lab: { name: 'suite', attach: false, subnet: '10.11.40.0/24', faithfulTimings: false },
    });
    expect(resolveRunConfig({ target: 'containers' }, {}).lab.name).toBe('ctr');
    expect(resolveRunConfig({ labAttach: 'mine' }, {}).lab).toMatchObject({ name: 'mine', attach: true });
  });

  it('names every bad option in one error, as the user wrote it', () => {
    expect(() => resolveRunConfig({ repeat: 'two' }, {})).toThrow(/^bad run option --repeat: a positive whole number \(got "two"\)$/);
    expect(() => resolveRunConfig({ repeat: '0', subnet: '10.1.2.3/16', labName: 'Big_Lab' }, {})).toThrow(
      /^bad run options:\n {2}--repeat: a positive whole number \(got 0\)\n {2}--lab: .*\(got "Big_Lab"\)\n {2}--subnet: a \/24 like 10\.11\.22\.0\/24 \(got "10\.1\.2\.3\/16"\)$/,
    );
    expect(() => resolveRunConfig({ labAttach: 'lab', target: 'containers' }, {})).toThrow(/--lab lab is for the netns target/);
    expect(() => resolveRunConfig({ observer: 'sometimes' }, {})).toThrow(
      /^bad run option --observer: poll or events \(got "sometimes"\)$/,
    );
    expect(resolveRunConfig({}, {}).observer).toBe('events');
    expect(resolveRunConfig({}, { MHC_OBSERVER: 'poll' }).observer).toBe('poll');
  });

  it('checks the profile and the case numbers before vitest starts', async () => {
    await expect(checkRun({ profile: 'nosuch' })).rejects.toThrow(/^no profile named "nosuch" in profiles\//);
    await expect(checkRun({ profile: '/nonexistent/prof' })).rejects.toThrow(/^profile \/nonexistent\/prof: no such directory/);
    await expect(checkRun({ labAttach: 'nolab', cases: ['2'] })).rejects.toThrow(/^no lab named "nolab" is up/);
  });

  it("finds a row's files: row 4 one per child daemon, in the notebook's order without cases", () => {
    expect(scenarioFiles(['4'])).toEqual([...PACEMAKER_CHILDREN].sort().map((c) => `scenarios/04-kill-${c}.test.ts`));
    expect(scenarioFiles(['03'])).toEqual(['scenarios/03-kill-pacemakerd.test.ts', 'scenarios/03-then-corosync-stop.test.ts']);
    expect(scenarioFiles(['12'])).toEqual(['scenarios/beyond/12-host-crash.test.ts']);
    const rows = scenarioFiles().map((f) => Number(/\/0*(\d+)-/.exec(f)![1]));
    expect(rows).toEqual([...rows].sort((a, b) => a - b));
    expect(new Set(rows)).toEqual(new Set([1, 2, 3, 4, 5, 6, 7]));
    expect(() => scenarioFiles(['99'])).toThrow(/^no scenario for case "99"/);
  });

  it('finds one provider per target name (ssh for any other name)', () => {
    expect(PROVIDERS.map((p) => p.kind)).toEqual(['netns', 'containers', 'ssh']);
    expect(providerFor('netns').kind).toBe('netns');
    expect(providerFor('containers').kind).toBe('containers');
    expect(providerFor('vagrant').kind).toBe('ssh');
    expect(providerFor('./targets/x.ts').kind).toBe('ssh');
  });
});
