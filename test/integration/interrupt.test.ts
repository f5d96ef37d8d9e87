import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditUntilHealthy } from '../../lib/checks/audits.js';
import { Profile } from '../../lib/profile/load.js';
import { clusterStatus } from '../../lib/probes/status.js';
import { NetnsLab, destroyLab, type StartedNetnsLab } from '../../lib/targets/netns/lab.js';
import { silentLog } from '../../lib/util/log.js';

// Ctrl-C in the middle of a fault: `npm run chaos` against a lab of its own; the terminal's SIGINT
// goes to the whole process group (the CLI and vitest's worker running the case).
const NAME = 'intr';
const SUBNET = '10.11.93.0/24';
const ROOT = join(import.meta.dirname, '../..');

describe('Ctrl-C during a case', () => {
  let lab: StartedNetnsLab;
  let reports: string;
  beforeAll(async () => {
    lab = await new NetnsLab(Profile.load('seed')).withName(NAME).withSubnet(SUBNET).withLog(silentLog()).start();
    reports = mkdtempSync(join(tmpdir(), 'mhc-intr-'));
  }, 120_000);
  afterAll(async () => {
    await destroyLab(NAME).catch(() => undefined);
    if (reports) rmSync(reports, { recursive: true, force: true });
  });

  it("stops the case, undoes its fault (the notebook's recovery for corosync stop), cancels the run and leaves the cluster healthy", async () => {
    // The nested run must not think it is inside this vitest, and keeps its reports apart.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && !k.startsWith('MHC_') && k !== 'TEST' && k !== 'NODE_ENV'),
    );
    const cli = spawn(process.execPath, ['--import', 'tsx', 'lib/cli/chaos.ts', '--lab', NAME, '--case', '5', '--case', '6'], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...env, MHC_REPORTS_DIR: reports },
    });
    let out = '';
    cli.stdout.on('data', (d) => (out += d));
    cli.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((ok) => cli.once('exit', (code) => ok(code)));
    const until = async (re: RegExp, ms: number, what: string) => {
      const deadline = Date.now() + ms;
      while (!re.test(out)) {
        if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}; output:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      await until(/case 5 act 5-corosync-stop: corosync stop on db\d/, 90_000, 'case 5 to stop corosync');
      await new Promise((r) => setTimeout(r, 2_000)); // corosync is down, the VIP on both nodes
      process.kill(-cli.pid!, 'SIGINT');
      const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 150_000))]);
      expect(code, out).toBe(1);
    } finally {
      if (cli.exitCode === null) process.kill(-cli.pid!, 'SIGKILL');
    }
    expect(out).toContain('case 5: interrupted during 5-corosync-stop');
    expect(out).toContain('cluster repaired: every audit passes');
    // Cancelled: case 6 never started.
    expect(out).not.toMatch(/case 6 act/);
    // And independently of what the CLI says: one VIP, both nodes online, every daemon up.
    const a = await auditUntilHealthy(lab, 10_000);
    expect(a.results.filter((r) => !r.ok)).toEqual([]);
    expect((await clusterStatus(lab)).vip.holders).toHaveLength(1);
  });
});
