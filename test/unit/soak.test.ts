import { describe, expect, it } from 'vitest';
import { parseJunit, soakTable } from '../../lib/soak.js';

// A vitest junit.xml as CI writes it, with one failure planted.
const JUNIT = `<?xml version="1.0" encoding="UTF-8" ?>
<testsuites name="vitest tests" tests="2" failures="1" errors="0">
  <testsuite name="test/integration/ssh-target.test.ts" tests="2" failures="1">
    <testcase classname="test/integration/ssh-target.test.ts" name="ssh target &gt; runs commands" time="1">
      <failure message="on db2: \`echo 8\` failed (timed out after 30000 ms)" type="HarnessError">
HarnessError: on db2: \`echo 8\` failed (timed out after 30000 ms)
 ❯ lib/targets/ssh/target.ts:254:59
      </failure>
    </testcase>
    <testcase classname="test/integration/ssh-target.test.ts" name="ssh target &gt; bad input" time="1"></testcase>
  </testsuite>
</testsuites>`;

describe('soak tables', () => {
  it('reads each test case of a junit.xml with the first line of its failure', () => {
    expect(parseJunit(JUNIT)).toEqual([
      {
        name: 'test/integration/ssh-target.test.ts > ssh target > runs commands',
        failed: true,
        firstError: 'on db2: `echo 8` failed (timed out after 30000 ms)',
      },
      { name: 'test/integration/ssh-target.test.ts > ssh target > bad input', failed: false, firstError: undefined },
    ]);
  });

  it('counts per test how many runs it failed; a run without junit.xml says why', () => {
    const tests = parseJunit(JUNIT);
    const table = soakTable(
      [
        { run: 1, exitCode: 1, ms: 450_000, tests },
        { run: 2, exitCode: 0, ms: 440_000, tests: tests.map((t) => ({ ...t, failed: false })) },
        { run: 3, exitCode: 1, ms: 60_000, tests: [], note: 'no junit.xml: setup: npm ci failed' },
      ],
      'abc123',
    );
    expect(table).toContain('1 of 3 runs green.');
    expect(table).toContain(
      '| test/integration/ssh-target.test.ts > ssh target > runs commands | 1/3 | on db2: `echo 8` failed (timed out after 30000 ms) |',
    );
    expect(table).toContain('no junit.xml: setup: npm ci failed');
    expect(table).not.toContain('bad input');
  });
});
