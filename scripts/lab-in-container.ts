/**
 * The nightly workflow's shard job as GitHub runs it: the harness inside a privileged Debian 12
 * container, building its lab there. Here the container runs on the containers target's own Docker
 * engine (dockerd in a network namespace of its own; the image is the Debian 12 root filesystem
 * the containers target builds, with the cluster packages setup.sh would install), with this
 * checkout and this machine's node mounted in and no network (the lab needs none outside itself).
 *
 * usage: npm run ci:container -- [--case 2] [--name ghjob]
 * Run it alone: it is a lab of its own (two cores).
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { runMain } from '../lib/cli/main.js';
import { fullCapabilities } from '../lib/targets/containers/cluster.js';
import { DockerEngine } from '../lib/targets/containers/engine.js';
import { ensureImage } from '../lib/targets/containers/image.js';
import { StepLog } from '../lib/util/log.js';

const ROOT = resolve(import.meta.dirname, '..');
// GitHub's `options: --privileged`; a machine whose capability bounding set lacks one (this one has
// no CAP_SYS_RESOURCE) cannot grant it, so the container gets every capability the machine has and
// no confinement, as the containers target does.
const PRIVILEGES = fullCapabilities()
  ? ['--privileged']
  : [
      '--cap-add',
      'ALL',
      '--cap-drop',
      'SYS_RESOURCE',
      '--security-opt',
      'seccomp=unconfined',
      '--security-opt',
      'apparmor=unconfined',
      '--security-opt',
      'systempaths=unconfined',
    ];

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { case: { type: 'string', default: '2' }, name: { type: 'string', default: 'ghjob' } } });
  const log = new StepLog();
  const engine = new DockerEngine(values.name);
  await log.step(`Docker engine "${values.name}" (dockerd in a netns of its own)`, () => engine.start(log));
  try {
    const { ref } = await log.step('the Debian 12 image (built once, then cached)', () => ensureImage(engine, log));
    const t0 = performance.now();
    const run = await engine.docker(
      [
        'run',
        '--rm',
        ...PRIVILEGES,
        '--network',
        'none',
        '--name',
        `${values.name}-shard`,
        '-v',
        `${ROOT}:/repo`,
        '-v',
        `${process.execPath}:/usr/local/bin/node:ro`,
        '-w',
        '/repo',
        '-e',
        'MHC_SKIP_SETUP=1',
        '-e',
        'MHC_REPORTS_DIR=/tmp/reports',
        ref,
        'node',
        '--import',
        'tsx',
        'lib/cli/chaos.ts',
        '--case',
        values.case,
      ],
      { timeoutMs: 20 * 60_000, check: false },
    );
    process.stdout.write(`${run.stdout}\n${run.stderr}\n`);
    log.info(`the shard's run inside the container: exit ${run.exitCode} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return run.exitCode ?? 1;
  } finally {
    await log.step(`Docker engine "${values.name}" down`, () => engine.stop());
  }
}

runMain(main);
