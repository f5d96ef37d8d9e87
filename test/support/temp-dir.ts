import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, onTestFinished } from 'vitest';

const make = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
const remove = (dir: string) => rmSync(dir, { recursive: true, force: true });

/** A temporary directory for a whole test file, removed after its last test. Call at collection time. */
export function fileTempDir(prefix: string): string {
  const dir = make(prefix);
  afterAll(() => remove(dir));
  return dir;
}

/** A temporary directory for the running test, removed when it ends, passed or failed. */
export function testTempDir(prefix: string): string {
  const dir = make(prefix);
  onTestFinished(() => remove(dir));
  return dir;
}
