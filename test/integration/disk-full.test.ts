import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ballastPath, emptyScript, fillRefusal, fillScript, parseFindmnt } from '../../lib/faults/disk-full.js';

// The disk-full fault's fill, on a small tmpfs of its own in a throwaway mount namespace (no lab):
// it must leave nothing free, and removing its ballast must give all of it back.
const FINDMNT = 'findmnt -J -b -o TARGET,SOURCE,FSTYPE,SIZE,AVAIL -T';

describe('disk full', () => {
  it('fills a filesystem to 0 bytes free while a writer appends to it, and its ballast removed frees it again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mhc-diskfull-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const mnt = join(dir, 'data');
    const fs = { target: mnt, source: 'tmpfs', fstype: 'tmpfs', size: 0, avail: 0 };
    // A writer appends 64 KiB at a time meanwhile, as a replica writes its relay log: an exact
    // fallocate of what df said a moment before would fail whole (the first version's bug).
    const script = `set -e
      mkdir -p ${mnt}; mount -t tmpfs -o size=32m tmpfs ${mnt}
      echo some data > ${mnt}/kept
      ${FINDMNT} ${mnt}
      (for i in $(seq 400); do dd if=/dev/zero of=${mnt}/grow bs=64k count=1 oflag=append conv=notrunc 2>/dev/null; done) &
      W=$!
      sh ${dir}/fill.sh
      ${FINDMNT} ${mnt}
      wait $W || true
      rm -f ${mnt}/grow
      sh -c "${emptyScript(ballastPath(fs))}"
      ${FINDMNT} ${mnt}
      cat ${mnt}/kept`;
    writeFileSync(join(dir, 'fill.sh'), fillScript(ballastPath(fs)));
    writeFileSync(join(dir, 'run.sh'), script);
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'bash', join(dir, 'run.sh')], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const [before, full, freed] = r.stdout
      .split(/(?=\{\s*"filesystems")/)
      .filter((x) => x.includes('filesystems'))
      .map((x) => parseFindmnt(x.slice(0, x.lastIndexOf('}') + 1)));
    expect(before).toMatchObject({ target: mnt, fstype: 'tmpfs', size: 32 * 2 ** 20 });
    expect(before!.avail).toBeGreaterThan(31 * 2 ** 20);
    expect(full!.avail).toBe(0);
    expect(freed!.avail).toBe(before!.avail);
    expect(r.stdout.trim().endsWith('some data')).toBe(true);
  });

  it('refuses a datadir that is not a filesystem of its own (/, /var), before anything is filled', () => {
    const root = parseFindmnt(spawnSync('sh', ['-c', `${FINDMNT} /var/lib`], { encoding: 'utf8' }).stdout);
    expect(root.target).toBe('/');
    expect(fillRefusal('db1', '/var/lib/mysql/', root)).toMatch(
      /^the datadir \/var\/lib\/mysql\/ of db1 is on \/ \(.+\), a filesystem it shares with the rest of the system/,
    );
    expect(fillRefusal('db1', '/var/lib/mysql/', { ...root, target: '/var' })).toMatch(/is on \/var /);
    expect(fillRefusal('db1', '/var/lib/mysql/', { ...root, target: '/var/lib/mysql' })).toBeUndefined();
    expect(() => parseFindmnt('{"filesystems":[]}')).toThrow(/findmnt gave no filesystem/);
  });
});
