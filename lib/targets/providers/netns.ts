import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { claimWorkerSlot, releaseRunSlots, runLabs, workerLab } from '../../parallel-labs.js';
import { Profile } from '../../profile/load.js';
import type { RunConfig } from '../../run-config.js';
import { HarnessError } from '../../util/errors.js';
import { StepLog } from '../../util/log.js';
import { destroyLabsTogether, NetnsLab, StartedNetnsLab } from '../netns/lab.js';
import { missingPackages } from '../netns/preflight.js';
import { procStart, readState } from '../netns/state.js';
import type { SuiteTargetContext, TargetProvider } from '../provider.js';

const ROOT = resolve(import.meta.dirname, '../../..');

/** The lab attached to (a lab already up), with the profile it was brought up with. */
function attachLab(c: RunConfig, name = c.lab.name): StartedNetnsLab {
  const s = readState(name);
  return StartedNetnsLab.attach(name, Profile.load(s?.profileDir ?? c.profile));
}

/** netns: the lab, real daemons in Linux namespaces on this machine. */
export const netnsProvider: TargetProvider = {
  kind: 'netns',
  serves: (target) => target === 'netns',

  async preflight(c) {
    if (c.lab.attach) {
      const s = readState(c.lab.name);
      if (!s?.complete) throw new HarnessError(`no lab named "${c.lab.name}" is up`, `start one: npm run lab -- up --name ${c.lab.name}`);
      return;
    }
    if (process.getuid?.() !== 0)
      throw new HarnessError('the netns lab needs root (it creates namespaces, bridges and mounts)', 'run as root');
    const missing = await missingPackages();
    if (missing.length) throw new HarnessError(`packages missing for the lab: ${missing.join(' ')}`, 'run: npm run setup');
  },

  async setUpSuite(c, log) {
    if (c.lab.attach) {
      // The run's labs, up already: the user's --lab, or the CLI's own (one per worker with --parallel).
      for (const l of runLabs(c.lab, Profile.load(c.profile).subnet, c.parallel)) attachLab(c, l.name);
      return { context: { labName: c.lab.name }, teardown: async () => releaseRunSlots(c.runId) };
    }
    // Vitest runs every project's global setup before the first test of any project: a lab
    // brought up here would idle beside the integration tests' own labs on two cores. The first
    // scenario brings it up instead, under this process's lease; the teardown ends it.
    const name = c.lab.name;
    const owner = { pid: process.pid, start: procStart(process.pid)! };
    const context: SuiteTargetContext = {
      labName: name,
      lazyLab: { name, subnet: c.lab.subnet, profile: Profile.load(c.profile).dir, faithful: c.lab.faithfulTimings, owner },
    };
    // Each worker's lab (one unless --parallel), brought up by that worker's first scenario.
    const names = runLabs(c.lab, Profile.load(c.profile).subnet, c.parallel).map((l) => l.name);
    // Ctrl-C on `vitest`/`npm test` exits this process at once (vitest's own handler), so the
    // teardown never runs: a detached `lab down` then ends the labs by PID instead.
    const onExit = () => {
      for (const n of names)
        spawn(process.execPath, ['--import', 'tsx', 'lib/cli/lab.ts', 'down', '--name', n], {
          cwd: ROOT,
          detached: true,
          stdio: 'ignore',
        }).unref();
    };
    process.once('exit', onExit);
    return {
      context,
      async teardown() {
        process.off('exit', onExit);
        releaseRunSlots(c.runId);
        await destroyLabsTogether(names, log);
      },
    };
  },

  async suiteTarget(c, s) {
    // This worker's own lab: the run's lab, or with --parallel the k-th of them.
    const own = workerLab(
      { name: s.labName, subnet: c.lab.subnet },
      Profile.load(c.profile).subnet,
      c.parallel,
      claimWorkerSlot(c.runId, c.parallel),
    );
    const lazy = s.lazyLab && { ...s.lazyLab, ...own };
    if (lazy && !readState(lazy.name)?.complete) {
      process.stderr.write(`bringing up lab "${lazy.name}" for the scenarios\n`);
      let b = new NetnsLab(Profile.load(lazy.profile))
        .withName(lazy.name)
        .withOwnerRecord(lazy.owner)
        .withLog(new StepLog())
        .withFaithfulTimings(lazy.faithful);
      if (lazy.subnet) b = b.withSubnet(lazy.subnet);
      await b.start();
    }
    return attachLab(c, own.name);
  },

  async clusterToRepair(c) {
    return c.lab.attach ? attachLab(c) : undefined;
  },
};
