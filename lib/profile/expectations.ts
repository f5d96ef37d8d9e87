import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { HarnessError } from '../util/errors.js';
import type { Profile } from './load.js';

const vipAfter = z.enum(['stayed', 'moved', 'both', 'none']);
const daemons = z.object({ corosync: z.boolean().optional(), pacemakerd: z.boolean().optional(), allChildren: z.boolean().optional() });

/** What the operator expects of one act of a case, from the notebook. */
export const expectationSchema = z.object({
  title: z.string(),
  /** The notebook's words for this row. */
  notebook: z.string(),
  /** Allowed VIP outcomes once the cluster has settled (several: a known nondeterminism). */
  vipAfter: z.array(vipAfter).min(1),
  /** Which node may hold the VIP at the end, by role (for acts that start from a dual VIP). */
  finalHolderIs: z.array(z.enum(['faulted', 'other'])).optional(),
  /** Whether a dual VIP may or must appear while the act plays out. */
  dualVipDuring: z.enum(['never', 'allowed', 'expected']).default('allowed'),
  /** Cluster daemons on the faulted node once settled. */
  faultedDaemonsAfter: daemons.optional(),
  /** Set when the expected outcome is a known dangerous state: the verdict is then "hazard". */
  hazard: z.string().optional(),
  /**
   * Set with `hazard` when the danger is the operator's own command, not the configuration's
   * (the notebook's forced move without a lifetime): what the operator should run instead. The
   * verdict stays "hazard" in every report; a release gate of the configuration (--strict) does
   * not fail on it, since no configuration can refuse an operator's command.
   */
  operatorInstead: z.string().optional(),
  /**
   * Dangerous outcomes that are allowed (seen in the lab) but do not happen every run: the verdict
   * is "hazard" only in the runs where they happen, "pass" otherwise.
   */
  hazardIf: z
    .object({
      dualVip: z.string().optional(),
      vipMoved: z.string().optional(),
      /** The VIP is still on both nodes when the act has settled. */
      vipBoth: z.string().optional(),
      childDown: z.string().optional(),
      /** A replica (replica threads configured) was seen writable during the act (MySQL observations). */
      writableReplica: z.string().optional(),
      /** A host answering on the VIP was seen with its MySQL not answering during the act. */
      vipOnDownServer: z.string().optional(),
      /** A replica was seen with a replication thread not running during the act. */
      replicationStopped: z.string().optional(),
      /** As replicationStopped, and still so at the act's end: nothing in the cluster put replication right. */
      replicationLeftStopped: z.string().optional(),
      /** A host answering on the VIP, its MySQL up and writable, was seen while no write through the VIP had been acknowledged for 5 s (STALL_MS). */
      vipOnStalledServer: z.string().optional(),
    })
    .optional(),
  /**
   * How the act's fencing ends. Default (succeeds): a failed fencing is a mismatch, and so is a
   * fenced host not back in the cluster by the act's end. Where the fault is the fence path's own:
   * fails — a failed fencing must be seen and none may succeed; target-not-back — a fencing must
   * succeed and its target must not be back.
   */
  fencing: z.enum(['succeeds', 'fails', 'target-not-back']).default('succeeds'),
  /** Budget: fault start → the VIP seen on another node; slower is a fail naming both figures. */
  failoverWithinMs: z.number().int().positive().optional(),
  /** Budget: the longest stretch in the act with no write acknowledged through the VIP. */
  writesUnavailableWithinMs: z.number().int().positive().optional(),
  /** The observer resolution the act needs (largest poll gap); coarser is inconclusive. Default 1500 ms (lib/checks/verdict.ts). */
  maxObservationGapMs: z.number().int().positive().optional(),
  /** Where this stack (Pacemaker 2 / Corosync 3) was seen to differ from the notebook. */
  differsFromNotebook: z.string().optional(),
  /**
   * Where the expectation comes from: the runs it was measured on, or why it is predicted (a
   * profile's expectations are written before its first lab run, then replaced by measurements).
   */
  note: z.string().optional(),
});
export type Expectation = z.infer<typeof expectationSchema>;

const fileSchema = z.object({
  $comment: z.string().optional(),
  acts: z.record(
    z.string(),
    expectationSchema.refine((e) => !e.operatorInstead || e.hazard, {
      message: 'operatorInstead names what to run instead of a hazardous command: it needs the hazard itself',
      path: ['operatorInstead'],
    }),
  ),
});

export function loadExpectations(profile: Profile): Record<string, Expectation> {
  // A variant's acts over its base's: it restates only the acts whose expectation differs.
  const files = [profile.baseDir, profile.dir].flatMap((d) =>
    d && existsSync(join(d, 'expectations.json')) ? [join(d, 'expectations.json')] : [],
  );
  if (!files.length)
    throw new HarnessError(`profile ${profile.name} has no expectations.json`, `copy profiles/seed/expectations.json into ${profile.dir}`);
  return Object.assign({}, ...files.map(readExpectationsFile));
}

function readExpectationsFile(f: string): Record<string, Expectation> {
  const parsed = fileSchema.safeParse(JSON.parse(readFileSync(f, 'utf8')));
  if (!parsed.success) {
    throw new HarnessError(
      `${relative(process.cwd(), f)} is not valid:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`,
    );
  }
  return parsed.data.acts;
}

export function expectationFor(all: Record<string, Expectation>, actId: string, profile: Profile): Expectation {
  const e = all[actId];
  if (!e)
    throw new HarnessError(
      `no expectation for act "${actId}" in ${profile.dir}/expectations.json`,
      'add one: what the notebook says happens',
    );
  return e;
}
