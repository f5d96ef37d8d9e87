import type { RunConfig } from '../run-config.js';
import type { SshTargetConfig } from './ssh/config.js';
import type { Target } from './target.js';

/** What a scenario worker needs to bring up the suite's lab under the suite's lease (netns). */
export interface LazyLab {
  name: string;
  subnet?: string;
  profile: string;
  faithful: boolean;
  owner: { pid: number; start: string };
}

/** What the suite's global setup hands the scenario workers about the target (JSON, via vitest's provide). */
export interface SuiteTargetContext {
  /** The lab or container cluster the suite runs on ('' for an ssh target). */
  labName: string;
  /** Set when the first scenario is to bring the suite's lab up (see lib/scenario.ts). */
  lazyLab?: LazyLab;
  /** The validated ssh target config. */
  sshTarget?: SshTargetConfig;
}

/** The suite's side of a target: what its global setup brought up, and how that ends. */
export interface SuiteTarget {
  context: SuiteTargetContext;
  teardown(): Promise<void>;
}

/**
 * One kind of target, from a --target name to a Target a scenario drives. Every provider is listed
 * in lib/targets/providers.ts; a new kind of target is one new provider file there.
 */
export interface TargetProvider {
  readonly kind: Target['kind'];
  /** Whether this provider serves the --target name. */
  serves(target: string): boolean;
  /** Checks that need nothing brought up (a config that loads, binaries present): run before vitest starts. */
  preflight(c: RunConfig): Promise<void>;
  /** The scenario suite's global setup: brings up (or defers) what the suite runs on. */
  setUpSuite(c: RunConfig, log: (line: string) => void): Promise<SuiteTarget>;
  /** In a scenario worker: the suite's target. */
  suiteTarget(c: RunConfig, s: SuiteTargetContext): Promise<Target>;
  /** A cluster the harness did not build, to repair after an interrupted run (undefined: nothing of the user's to repair). */
  clusterToRepair(c: RunConfig): Promise<Target | undefined>;
}
