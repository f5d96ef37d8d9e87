/**
 * The containers target against the netns lab: image build (cold: debootstrap + import, unless
 * --cold-build is given), cluster start, one scenario case (2-stop) and stop, on each target.
 * usage: npm run bench:containers -- [--cold-build]
 * Run it alone: timings taken while another lab runs on 2 cores are worthless.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { Profile } from '../lib/profile/load.js';
import { pacemakerStop } from '../lib/faults/index.js';
import { runCase } from '../lib/run-case.js';
import { ContainersCluster } from '../lib/targets/containers/cluster.js';
import { DockerEngine } from '../lib/targets/containers/engine.js';
import { IMAGE_CACHE, ensureImage, imageRef } from '../lib/targets/containers/image.js';
import { NetnsLab, destroyLab } from '../lib/targets/netns/lab.js';
import type { Target } from '../lib/targets/target.js';
import { StepLog } from '../lib/util/log.js';

const { values } = parseArgs({
  options: {
    'cold-build': { type: 'boolean', default: false },
    name: { type: 'string', default: 'cbench' },
    subnet: { type: 'string', default: '10.11.34.0/24' },
    'lab-name': { type: 'string', default: 'cbenchlab' },
    'lab-subnet': { type: 'string', default: '10.11.35.0/24' },
  },
});
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const profile = Profile.load('seed');
const out: string[] = [];

const runOneCase = async (t: Target) => {
  const t0 = performance.now();
  const { record } = await runCase(
    t,
    {
      id: '2-stop',
      title: 'pacemaker stop on the VIP holder',
      acts: ({ holder }) => [{ id: '2-pacemaker-stop', fault: pacemakerStop(holder) }],
    },
    { runId: `bench-containers-${Date.now()}`, repetition: 1, resultsDir: mkdtempSync(join(tmpdir(), 'mhc-bench-')), log: () => {} },
  );
  return { ms: performance.now() - t0, verdicts: record.acts.map((a) => a.verdict).join(','), audits: record.auditsOk ? 'ok' : 'FAILED' };
};

// 1. Image: cold (tarball cache and engine image removed) or as cached.
{
  const e = new DockerEngine(values.name!);
  await e.start();
  try {
    if (values['cold-build']) {
      rmSync(join(IMAGE_CACHE, `node-${imageRef().split(':')[1]}.tar`), { force: true });
      await e.docker(['image', 'rm', '-f', imageRef()], { check: false });
    }
    const t0 = performance.now();
    const r = await ensureImage(e, new StepLog());
    out.push(`image ${r.ref}: ${r.did} in ${s(performance.now() - t0)} (build ${s(r.buildMs)}, import ${s(r.importMs)})`);
  } finally {
    await e.stop();
  }
}

// 2. Containers: start, case, stop.
{
  const log = new StepLog(() => {});
  const t0 = performance.now();
  const c = await new ContainersCluster(profile).withName(values.name!).withSubnet(values.subnet!).withLog(log).start();
  const up = performance.now() - t0;
  try {
    const k = await runOneCase(c);
    out.push(`containers: start ${s(up)}, case 2-stop ${s(k.ms)} (verdict ${k.verdicts}, audits ${k.audits})`);
    for (const st of log.timings) out.push(`    ${s(st.ms).padStart(8)}  ${st.step}`);
  } finally {
    const t1 = performance.now();
    await c.stop();
    out.push(`containers: stop ${s(performance.now() - t1)}`);
  }
}

// 3. The netns lab, same case.
{
  const t0 = performance.now();
  const lab = await new NetnsLab(profile)
    .withName(values['lab-name']!)
    .withSubnet(values['lab-subnet']!)
    .withLog(new StepLog(() => {}))
    .start();
  const up = performance.now() - t0;
  try {
    const k = await runOneCase(lab);
    out.push(`netns lab:  start ${s(up)}, case 2-stop ${s(k.ms)} (verdict ${k.verdicts}, audits ${k.audits})`);
  } finally {
    const t1 = performance.now();
    await lab.stop();
    out.push(`netns lab:  stop ${s(performance.now() - t1)}`);
    await destroyLab(values['lab-name']!).catch(() => undefined);
  }
}
console.log(`\ncontainers bench\n  ${out.join('\n  ')}`);
