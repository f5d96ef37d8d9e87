import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCorosyncVersion, parseMariadbVersion, parsePacemakerVersion } from '../../lib/probes/versions.js';
import { environmentProperties } from '../../lib/report/environment.js';

const fixture = (f: string) => readFileSync(new URL(`../../fixtures/versions/${f}`, import.meta.url), 'utf8');

describe('cluster versions (outputs of the lab hosts’ own binaries)', () => {
  it('reads Pacemaker, corosync and MariaDB versions', () => {
    expect(parsePacemakerVersion(fixture('crm_mon-version.xml'))).toBe('2.1.5');
    expect(parseCorosyncVersion(fixture('corosync-v.txt'))).toBe('3.1.7');
    expect(parseMariadbVersion(fixture('mariadbd-version.txt'))).toMatch(/^10\.11\.\d+-MariaDB/);
  });

  it('leaves out what a program did not say, rather than guessing', () => {
    expect(parsePacemakerVersion('<pacemaker-result><status code="1"/></pacemaker-result>')).toBeUndefined();
    expect(parseCorosyncVersion('')).toBeUndefined();
    expect(environmentProperties({ profile: 'seed', target: 'netns lab', versions: { corosync: '3.1.7' } })).toBe(
      'profile = seed\ntarget = netns lab\ncorosync = 3.1.7\n',
    );
  });
});
