import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

// scripts/setup.sh --print-packages: the package choice for an os-release, nothing installed.
// MHC_SKIP_SETUP is cleared so that a CI box that sets it still runs the choice.
function printPackages(osRelease: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, MHC_OS_RELEASE: osRelease };
  delete env.MHC_SKIP_SETUP;
  const r = spawnSync('bash', ['scripts/setup.sh', '--print-packages'], { cwd: ROOT, env, encoding: 'utf8' });
  return { status: r.status, packages: r.stdout.split('\n').filter(Boolean), stderr: r.stderr };
}

describe('scripts/setup.sh package choice', () => {
  it('is valid bash', () => {
    expect(spawnSync('bash', ['-n', 'scripts/setup.sh'], { cwd: ROOT }).status).toBe(0);
  });

  it("Debian 12: the Debian-only script's list in its order (resource-agents, Debian's chromium), and iptables for the faults", () => {
    const r = printPackages(join(ROOT, 'fixtures/os-release/debian-12'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.packages).toEqual([
      ...['pacemaker', 'pacemaker-cli-utils', 'corosync', 'crmsh', 'corosync-qdevice', 'corosync-qnetd'],
      ...['fence-agents', 'ipmitool', 'python3-pyghmi'],
      ...['resource-agents', 'mariadb-server', 'mariadb-client'],
      ...['openssh-server', 'openssh-client', 'socat', 'tini', 'iproute2', 'procps', 'util-linux', 'gzip', 'iptables'],
      ...['chromium', 'ruby', 'jq', 'docker.io', 'debootstrap'],
    ]);
  });

  it('Ubuntu 24.04: resource-agents-base (IPaddr2), no resource-agents, no snap-shim chromium; Debian keys for debootstrap', () => {
    const r = printPackages(join(ROOT, 'fixtures/os-release/ubuntu-24.04'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.packages).toContain('resource-agents-base');
    expect(r.packages).not.toContain('resource-agents');
    expect(r.packages).toContain('fence-agents-base');
    expect(r.packages).not.toContain('chromium');
    expect(r.packages).toContain('debian-archive-keyring');
    // The rest is the same set as on Debian.
    const debian = printPackages(join(ROOT, 'fixtures/os-release/debian-12')).packages;
    const same = (l: string[]) =>
      l.filter(
        (p) =>
          !['resource-agents', 'resource-agents-base', 'fence-agents', 'fence-agents-base', 'chromium', 'debian-archive-keyring'].includes(
            p,
          ),
      );
    expect(same(r.packages)).toEqual(same(debian));
  });

  it('an unknown system: one line naming it and the systems it knows, exit 1, no list', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mhc-os-release-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const fedora = join(dir, 'os-release');
    writeFileSync(fedora, 'NAME="Fedora Linux"\nVERSION_ID=41\nID=fedora\nPRETTY_NAME="Fedora Linux 41 (Server Edition)"\n');
    const r = printPackages(fedora);
    expect(r.status).toBe(1);
    expect(r.packages).toEqual([]);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('Fedora Linux 41');
    expect(lines[0]).toContain('ID=fedora');
    expect(lines[0]).toMatch(/Debian 12 and Ubuntu 24\.04/);

    // Another release of a known distribution is not guessed at either.
    writeFileSync(fedora, 'PRETTY_NAME="Ubuntu 22.04.5 LTS"\nID=ubuntu\nVERSION_ID="22.04"\n');
    expect(printPackages(fedora).status).toBe(1);
    expect(printPackages(join(dir, 'missing')).stderr).toContain('cannot read');
  });
});
