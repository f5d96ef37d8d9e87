import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { Profile } from '../profile/load.js';
import { StartedNetnsLab, destroyLab } from '../targets/netns/lab.js';
import { procStart, readState } from '../targets/netns/state.js';
import { readRun, distribution, regressionSincePrevious, summaryTable } from '../results.js';
import { StepLog } from '../util/log.js';
import { loadTargetConfig, targetName } from '../targets/select.js';
import { ContainersCluster, type StartedContainersCluster } from '../targets/containers/cluster.js';

const ROOT = resolve(import.meta.dirname, '../..');

declare module 'vitest' {
  export interface ProvidedContext {
    labName: string;
    runId: string;
    /** Set when the first scenario is to bring the suite's lab up (see lib/scenario.ts). */
    lazyLab?: LazyLab;
  }
}

/** What a scenario worker needs to bring up the suite's lab under this process's lease. */
export interface LazyLab {
  name: string;
  subnet?: string;
  profile: string;
  faithful: boolean;
  owner: { pid: number; start: string };
}

/**
 * One lab for the whole scenario suite, brought up before the first scenario and down after the
 * last (also when tests fail). MHC_LAB_ATTACH=NAME uses a lab that is already up instead.
 */
export default async function setup(project: TestProject) {
  const runId = process.env.MHC_RUN_ID ?? new Date().toISOString().replace(/[:.]/g, '-');
  project.provide('runId', runId);
  const attach = process.env.MHC_LAB_ATTACH;
  const profile = Profile.load(process.env.MHC_PROFILE ?? 'seed');
  let lab: StartedContainersCluster | undefined;
  let onExit: (() => void) | undefined;
  let lazyName: string | undefined;
  const sshConfig = await loadTargetConfig(); // MHC_TARGET names an ssh target: no lab to bring up
  if (sshConfig) {
    project.provide('sshTarget', sshConfig);
    project.provide('labName', '');
  } else if (targetName() === 'containers') {
    // MHC_TARGET=containers: db1, db2, batch1 as Docker containers in an engine of the run's own.
    const name = process.env.MHC_CONTAINERS_NAME ?? 'ctr';
    process.stderr.write(`bringing up containers "${name}" for the scenarios\n`);
    let b = new ContainersCluster(profile)
      .withName(name)
      .withLog(new StepLog())
      .withFaithfulTimings(process.env.MHC_FAITHFUL_TIMINGS === '1');
    if (process.env.MHC_SUBNET) b = b.withSubnet(process.env.MHC_SUBNET);
    lab = await b.start();
    project.provide('labName', name);
  } else if (attach) {
    StartedNetnsLab.attach(attach, profile);
    project.provide('labName', attach);
  } else {
    // Vitest runs every project's global setup before the first test of any project: a lab
    // brought up here would idle beside the integration tests' own labs on two cores. The first
    // scenario brings it up instead, under this process's lease; the teardown below ends it.
    const name = process.env.MHC_LAB ?? 'suite';
    project.provide('labName', name);
    project.provide('lazyLab', {
      name,
      subnet: process.env.MHC_SUBNET,
      profile: profile.dir,
      faithful: process.env.MHC_FAITHFUL_TIMINGS === '1',
      owner: { pid: process.pid, start: procStart(process.pid)! },
    });
    lazyName = name;
    // Ctrl-C on `vitest`/`npm test` exits this process at once (vitest's own handler), so the
    // teardown below never runs: a detached `lab down` then ends the lab by PID instead.
    onExit = () => {
      spawn(process.execPath, ['--import', 'tsx', 'lib/cli/lab.ts', 'down', '--name', name], {
        cwd: ROOT,
        detached: true,
        stdio: 'ignore',
      }).unref();
    };
    process.once('exit', onExit);
  }
  return async () => {
    if (onExit) process.off('exit', onExit);
    const runs = readRun(runId);
    if (runs.length) {
      process.stdout.write(`\n${summaryTable(runs, regressionSincePrevious(runId))}\n`);
      const d = distribution(runs);
      if (d) process.stdout.write(`\noutcome distribution:\n${d}\n`);
    }
    if (lab) {
      await lab.stop();
      process.stderr.write(`${lab.kind === 'containers' ? 'containers' : 'lab'} "${lab.name}" is down\n`);
    } else if (lazyName && readState(lazyName)) {
      await destroyLab(lazyName);
      process.stderr.write(`lab "${lazyName}" is down\n`);
    }
  };
}
