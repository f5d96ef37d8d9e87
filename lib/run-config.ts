import { z } from 'zod';
import { defaultParallel, MAX_PARALLEL } from './parallel-labs.js';
import { HarnessError } from './util/errors.js';

/**
 * One run's options, typed: what the CLI parsed (or, for a plain `npm test` / `vitest`, what the
 * environment says), carried to vitest's global setup and the scenario workers with vitest's
 * `provide`. Nothing below the CLI reads an MHC_* run option from the environment.
 */
export const runConfigSchema = z.object({
  /** Names reports/runs/<runId>/. */
  runId: z.string().min(1),
  /** A name under profiles/ or a profile directory. */
  profile: z.string().min(1),
  /** netns (the lab), containers, or an ssh target config (a name under targets/ or a path). */
  target: z.string().min(1),
  /** Hazards fail the run (release gates). */
  strict: z.boolean(),
  /** How the cluster is watched: poll (every db host every 100 ms) or events (a watcher inside each db host, lib/observe/). */
  observer: z.enum(['poll', 'events'], 'poll or events'),
  /** Labs at once: the scenario files spread over this many workers, each with a lab of its own (lib/parallel-labs.ts). */
  parallel: z
    .number(`a whole number 1–${MAX_PARALLEL}`)
    .int(`a whole number 1–${MAX_PARALLEL}`)
    .min(1, `a whole number 1–${MAX_PARALLEL}`)
    .max(MAX_PARALLEL, `a whole number 1–${MAX_PARALLEL}`),
  /** Repetitions of every case. */
  repeat: z.number('a positive whole number').int('a positive whole number').positive('a positive whole number'),
  /** A random schedule instead of the notebook's rows: count faults drawn from the catalogue by seed. */
  random: z
    .object({
      count: z.number('a positive whole number').int('a positive whole number').positive('a positive whole number'),
      seed: z.number('a whole number ≥ 0').int('a whole number ≥ 0').nonnegative('a whole number ≥ 0'),
    })
    .optional(),
  lab: z.object({
    /** The lab (or container cluster) the suite brings up, or the one it attaches to. */
    name: z.string().regex(/^[a-z][a-z0-9-]{0,11}$/, 'a lab name is 1–12 characters: a–z, 0–9, -, starting with a letter'),
    /** Use a lab that is already up (npm run lab -- up) instead of bringing one up. */
    attach: z.boolean(),
    subnet: z
      .string()
      .regex(/^\d+\.\d+\.\d+\.0\/24$/, 'a /24 like 10.11.22.0/24')
      .optional(),
    /** The profile's own corosync timings instead of the lab's shortened ones. */
    faithfulTimings: z.boolean(),
  }),
});
export type RunConfig = z.infer<typeof runConfigSchema>;

/** Options as a CLI takes them; anything left out comes from the environment, then the defaults. */
export interface RunOptions {
  runId?: string;
  profile?: string;
  target?: string;
  strict?: boolean;
  observer?: string;
  /** A number, or the text the user typed (checked here). */
  repeat?: number | string;
  parallel?: number | string;
  /** --random N and its --seed S (texts as typed; the seed defaults to the time). */
  random?: string;
  seed?: string;
  /** Attach to this lab instead of bringing one up. */
  labAttach?: string;
  labName?: string;
  subnet?: string;
  faithfulTimings?: boolean;
}

const truthy = (v: string | undefined) => ['1', 'true', 'yes'].includes((v ?? '').trim().toLowerCase());

export const newRunId = () => new Date().toISOString().replace(/[:.]/g, '-');

/**
 * The run's configuration: the CLI's options over the environment's MHC_* overrides (the one
 * place they are read) over the defaults. Throws one HarnessError listing every bad option.
 */
export function resolveRunConfig(o: RunOptions = {}, env: NodeJS.ProcessEnv = process.env): RunConfig {
  const target = o.target ?? (env.MHC_TARGET?.trim() || 'netns');
  const attach = o.labAttach ?? env.MHC_LAB_ATTACH;
  const defaultName = target === 'containers' ? env.MHC_CONTAINERS_NAME || 'ctr' : env.MHC_LAB || 'suite';
  const repeatText = String(o.repeat ?? (env.MHC_REPEAT || 1)).trim();
  const parallelText = String(o.parallel ?? (env.MHC_PARALLEL || defaultParallelFor(target, Boolean(attach)))).trim();
  const raw = {
    runId: o.runId ?? (env.MHC_RUN_ID || newRunId()),
    profile: o.profile ?? (env.MHC_PROFILE || 'seed'),
    target,
    strict: o.strict ?? truthy(env.MHC_STRICT),
    observer: o.observer ?? (env.MHC_OBSERVER?.trim() || 'events'),
    repeat: /^\d+$/.test(repeatText) ? Number(repeatText) : repeatText,
    parallel: /^\d+$/.test(parallelText) ? Number(parallelText) : parallelText,
    random: randomSchedule(o),
    lab: {
      name: attach || o.labName || defaultName,
      attach: Boolean(attach),
      subnet: o.subnet ?? (env.MHC_SUBNET || undefined),
      faithfulTimings: o.faithfulTimings ?? truthy(env.MHC_FAITHFUL_TIMINGS),
    },
  };
  const parsed = runConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${optionName(i.path)}: ${i.message}${givenValue(raw, i.path)}`);
    throw new HarnessError(lines.length === 1 ? `bad run option ${lines[0]}` : `bad run options:\n  ${lines.join('\n  ')}`);
  }
  const d = parsed.data;
  if (d.lab.attach && d.target !== 'netns') throw new HarnessError(`--lab ${d.lab.name} is for the netns target, not --target ${d.target}`);
  if (d.parallel > 1 && (d.target !== 'netns' || d.lab.attach))
    throw new HarnessError(
      `--parallel ${d.parallel} brings up labs of its own on the netns target: not with ${d.lab.attach ? `--lab ${d.lab.name}` : `--target ${d.target}`}`,
    );
  if (d.parallel > 1 && d.lab.name.length + 1 + String(d.parallel).length > 12)
    throw new HarnessError(
      `--parallel ${d.parallel} names its labs ${d.lab.name}-1…: a lab name of at most ${11 - String(d.parallel).length} characters is needed`,
    );
  return d;
}

/** Several labs only where the run brings up its own netns labs; elsewhere one target. */
const defaultParallelFor = (target: string, attach: boolean) => (target === 'netns' && !attach ? defaultParallel() : 1);

/**
 * The scenario workers vitest.config.ts gives the run: MHC_PARALLEL (the CLI sets it from
 * --parallel), else the run's default. Lenient: the options are checked by resolveRunConfig, and a
 * bad one must not stop the unit or integration projects from loading.
 */
export function scenarioWorkers(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.MHC_PARALLEL);
  if (Number.isInteger(n) && n >= 1) return Math.min(n, MAX_PARALLEL);
  return defaultParallelFor(env.MHC_TARGET?.trim() || 'netns', Boolean(env.MHC_LAB_ATTACH));
}

/** --random N [--seed S]: the seed defaults to the time, printed with the run so it can be replayed. */
function randomSchedule(o: RunOptions): { count: number | string; seed: number | string } | undefined {
  if (o.random === undefined) {
    if (o.seed !== undefined) throw new HarnessError('--seed goes with --random N');
    return undefined;
  }
  const whole = (t: string) => (/^\d+$/.test(t.trim()) ? Number(t) : t);
  return { count: whole(o.random), seed: o.seed === undefined ? Date.now() % 1_000_000 : whole(o.seed) };
}

/** The flag a user would have written for a config path. */
function optionName(path: PropertyKey[]): string {
  const key = path.map(String).join('.');
  const flags: Record<string, string> = {
    'random.count': '--random',
    'random.seed': '--seed',
    'lab.name': '--lab',
    'lab.subnet': '--subnet',
    repeat: '--repeat',
    parallel: '--parallel',
    runId: 'run id',
    profile: '--profile',
    target: '--target',
    observer: '--observer',
  };
  return flags[key] ?? key;
}

function givenValue(raw: unknown, path: PropertyKey[]): string {
  let v: unknown = raw;
  for (const k of path) v = (v as Record<PropertyKey, unknown> | undefined)?.[k];
  return v === undefined ? '' : ` (got ${JSON.stringify(v)})`;
}
