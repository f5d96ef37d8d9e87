import type { ScenarioRunOptions } from './run-scenarios.js';

/** The run options every CLI that runs scenarios takes (chaos, ci:shard, ci:local), as parseArgs options. */
export const RUN_FLAGS = {
  profile: { type: 'string' },
  case: { type: 'string', multiple: true },
  repeat: { type: 'string' },
  strict: { type: 'boolean' },
  target: { type: 'string' },
  observer: { type: 'string' },
  parallel: { type: 'string' },
} as const;

export interface RunFlagValues {
  profile?: string;
  case?: string[];
  repeat?: string;
  strict?: boolean;
  target?: string;
  observer?: string;
  parallel?: string;
}

/** --case 1,5 --case 7 → ["1", "5", "7"]. */
export const caseList = (v: RunFlagValues) => v.case?.flatMap((c) => c.split(',')).filter(Boolean);

export const runOptionsFrom = (v: RunFlagValues): ScenarioRunOptions => ({
  profile: v.profile,
  cases: caseList(v),
  repeat: v.repeat,
  strict: v.strict,
  target: v.target,
  observer: v.observer,
  parallel: v.parallel,
});

/** The same options again as flags, for a child CLI (ci:local → ci:shard). */
export function runFlagArgs(v: RunFlagValues): string[] {
  const cases = caseList(v);
  return [
    ...(v.profile ? ['--profile', v.profile] : []),
    ...(cases?.length ? ['--case', cases.join(',')] : []),
    ...(v.repeat ? ['--repeat', v.repeat] : []),
    ...(v.strict ? ['--strict'] : []),
    ...(v.target ? ['--target', v.target] : []),
    ...(v.observer ? ['--observer', v.observer] : []),
    ...(v.parallel ? ['--parallel', v.parallel] : []),
  ];
}
