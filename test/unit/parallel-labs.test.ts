import { describe, expect, it } from 'vitest';
import { defaultParallel, runLabs, workerLab } from '../../lib/parallel-labs.js';
import { resolveRunConfig } from '../../lib/run-config.js';

const GiB = 2 ** 30;

describe('parallel labs (--parallel N)', () => {
  it('gives each worker a lab of its own name and subnet; one lab keeps the run own', () => {
    expect(runLabs({ name: 'suite' }, '10.11.22.0/24', 1)).toEqual([{ name: 'suite' }]);
    expect(runLabs({ name: 'suite', subnet: '10.11.40.0/24' }, '10.11.22.0/24', 1)).toEqual([{ name: 'suite', subnet: '10.11.40.0/24' }]);
    expect(runLabs({ name: 'suite' }, '10.11.22.0/24', 3)).toEqual([
      { name: 'suite-1', subnet: '10.11.22.0/24' },
      { name: 'suite-2', subnet: '10.11.23.0/24' },
      { name: 'suite-3', subnet: '10.11.24.0/24' },
    ]);
    expect(workerLab({ name: 'x', subnet: '10.50.7.0/24' }, '10.11.22.0/24', 2, 2)).toEqual({ name: 'x-2', subnet: '10.50.8.0/24' });
  });

  it('refuses a worker without a lab and subnets past .255', () => {
    expect(() => workerLab({ name: 'suite' }, '10.11.22.0/24', 2, 3)).toThrow(/^worker 3 has no lab: the run has 2/);
    expect(() => runLabs({ name: 'suite' }, '10.11.254.0/24', 3)).toThrow(/--parallel 3 needs 3 subnets after 10\.11\.254\.0\/24/);
  });

  it('defaults to what the cores and memory hold: a lab per core and per 3 GiB', () => {
    expect(defaultParallel(2, 24 * GiB)).toBe(2);
    expect(defaultParallel(1, 24 * GiB)).toBe(1);
    expect(defaultParallel(8, 24 * GiB)).toBe(8);
    expect(defaultParallel(16, 8 * GiB)).toBe(2);
    expect(defaultParallel(4, 5 * GiB)).toBe(1);
  });

  it('is a run option: the flag over MHC_PARALLEL over the default, netns labs of the run own only', () => {
    expect(resolveRunConfig({ parallel: '2' }, { MHC_PARALLEL: '3' }).parallel).toBe(2);
    expect(resolveRunConfig({}, { MHC_PARALLEL: '3' }).parallel).toBe(3);
    expect(resolveRunConfig({ target: 'containers' }, {}).parallel).toBe(1);
    expect(() => resolveRunConfig({ parallel: '0' }, {})).toThrow(/^bad run option --parallel: a whole number 1–8 \(got 0\)$/);
    expect(() => resolveRunConfig({ parallel: 'two' }, {})).toThrow(/^bad run option --parallel: a whole number 1–8 \(got "two"\)$/);
    expect(() => resolveRunConfig({ parallel: '2', target: 'containers' }, {})).toThrow(
      /labs of its own on the netns target: not with --target containers/,
    );
    expect(() => resolveRunConfig({ parallel: '2', labAttach: 'lab' }, {})).toThrow(/not with --lab lab/);
    expect(() => resolveRunConfig({ parallel: '2', labName: 'abcdefghijk' }, {})).toThrow(/a lab name of at most 10 characters/);
  });
});
