import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

describe('a CLI given an option it does not know', () => {
  it('says so in one line, pointing to --help, without a stack trace', async () => {
    const r = await execa('npx', ['tsx', 'lib/cli/lab.ts', 'status', '--lab', 'x'], { cwd: ROOT, reject: false, timeout: 30_000 });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: Unknown option '--lab'.*\(see --help\)$/)]);
  });
});
