import { describe, expect, it } from 'vitest';
import { degradedNetwork } from '../../lib/faults/degraded-network.js';
import { missingTools, missingToolsError, requireTools, toolProbeScript } from '../../lib/faults/tools.js';
import { History } from '../../lib/history.js';
import { Profile } from '../../lib/profile/load.js';
import type { ExecResult, Target } from '../../lib/targets/target.js';

/** A target whose hosts answer every shell snippet with `answer` and record every command. */
function fakeTarget(kind: Target['kind'], answer: (host: string, script: string) => ExecResult) {
  const calls: string[] = [];
  const t = {
    kind,
    profile: Profile.load('seed'),
    async sh(host: string, script: string) {
      calls.push(`${host}: sh ${script}`);
      return answer(host, script);
    },
    async exec(host: string, argv: string[]) {
      calls.push(`${host}: ${argv.join(' ')}`);
      return { stdout: '', stderr: '', exitCode: 0 };
    },
  } as unknown as Target;
  return { t, calls };
}

const ok = (stdout: string): ExecResult => ({ stdout, stderr: '', exitCode: 0 });

describe('tool preflight: a missing command is a clear error naming its package, before anything is injected', () => {
  it("looks for an executable on the host's PATH and reads the answer", () => {
    expect(toolProbeScript(['iptables', 'tc'])).toMatch(/^for b in iptables tc; do .*if \[ -x "\$d\/\$b" \]/);
    expect(missingTools('ok iptables\nmissing tc\n', ['iptables', 'tc'])).toEqual(['tc']);
    // A tool the answer does not mention counts as missing.
    expect(missingTools('ok iptables\n', ['iptables', 'tc'])).toEqual(['tc']);
  });

  it('names the fault, the host, each command with its Debian package, and where to install it per target', () => {
    const e = missingToolsError('partition db1 ⇹ db2', 'db2', 'ssh', ['iptables', 'tc']);
    expect(e.message).toBe(
      'cannot inject "partition db1 ⇹ db2": db2 lacks iptables (package iptables), tc (package iproute2); nothing was injected\n  → on db2: apt-get install -y iptables iproute2',
    );
    expect(missingToolsError('x', 'db1', 'netns', ['iptables']).message).toContain(
      "the lab's hosts run this machine's binaries: apt-get install -y iptables here (npm run setup installs it)",
    );
    expect(missingToolsError('x', 'db1', 'containers', ['tc']).message).toContain(
      'add iproute2 to NODE_PACKAGES in lib/targets/containers/image.ts',
    );
  });

  it('requireTools throws for the first host that lacks one, and a host that cannot be asked is not "everything missing"', async () => {
    const { t } = fakeTarget('netns', (host) => ok(host === 'db2' ? 'missing iptables\n' : 'ok iptables\n'));
    await expect(requireTools(t, 'f', ['db1'], ['iptables'])).resolves.toBeUndefined();
    await expect(requireTools(t, 'f', ['db1', 'db2'], ['iptables'])).rejects.toThrow(/db2 lacks iptables \(package iptables\)/);
    const down = fakeTarget('ssh', () => ({ stdout: '', stderr: 'connection lost', exitCode: 255 })).t;
    await expect(requireTools(down, 'f', ['db1'], ['iptables'])).rejects.toThrow(/cannot check the tools of "f" on db1: connection lost/);
  });

  it('a degraded-network fault checks levels and tools before its first change', async () => {
    const { t, calls } = fakeTarget('netns', () => ok('missing iptables\n'));
    const f = degradedNetwork('db1', { lossPercent: 5 }, 1);
    await expect(f.inject(t, new History())).rejects.toThrow(/db1 lacks iptables.*nothing was injected/);
    expect(calls.filter((c) => !c.includes('for b in'))).toEqual([]);
    const bad = degradedNetwork('db1', { lossPercent: 0 }, 1);
    await expect(bad.inject(t, new History())).rejects.toThrow(/lossPercent must be between/);
  });
});
