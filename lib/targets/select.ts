import { Profile } from '../profile/load.js';
import { HarnessError } from '../util/errors.js';
import { StartedNetnsLab } from './netns/lab.js';
import { readState } from './netns/state.js';
import { loadSshTargetConfig, type SshTargetConfig } from './ssh/config.js';
import { SshTarget } from './ssh/target.js';
import { StartedContainersCluster } from './containers/cluster.js';
import type { Target } from './target.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The validated ssh target config, when MHC_TARGET names one (loaded by the global setup). */
    sshTarget?: SshTargetConfig;
  }
}

/** The target name: MHC_TARGET, else netns (the lab). */
export function targetName(env: NodeJS.ProcessEnv = process.env): string {
  return env.MHC_TARGET?.trim() || 'netns';
}

/** netns is the lab, containers the Docker cluster; any other name is an ssh target config (targets/<name>.ts or a path). */
export function isSshTarget(name = targetName()): boolean {
  return name !== 'netns' && name !== 'containers';
}

/** Loads and validates the config a target name stands for (undefined for the lab). */
export async function loadTargetConfig(name = targetName()): Promise<SshTargetConfig | undefined> {
  return isSshTarget(name) ? loadSshTargetConfig(name) : undefined;
}

/** An SshTarget for a loaded config (connections start inside the lab named by viaLab, if any). */
export function sshTargetFor(config: SshTargetConfig): SshTarget {
  if (!config.viaLab) return new SshTarget(config);
  const lab = StartedNetnsLab.attach(config.viaLab, Profile.load(config.profile));
  return new SshTarget(config, {
    profile: lab.profile,
    firstHop: (a, p) => lab.openStream(a, p),
    firstHopLabel: `inside lab ${config.viaLab}'s ${lab.profile.managementHost.name}`,
  });
}

export interface SelectOptions {
  /** The lab to attach to for netns (the suite's lab). */
  labName?: string;
  /** The ssh config, already loaded (suiteTarget gets it from the global setup: loading a .ts file is async). */
  sshConfig?: SshTargetConfig;
}

/**
 * The target the harness runs against, from MHC_TARGET: netns (default) attaches to a running lab
 * (labName, else MHC_LAB_ATTACH, else MHC_LAB, else "suite"); any other name is an ssh target whose
 * config was loaded with loadTargetConfig().
 */
export function selectTarget(o: SelectOptions = {}): Target {
  const name = targetName();
  if (name === 'containers') {
    // The suite's container cluster (its global setup brought it up under labName).
    return StartedContainersCluster.attach(
      o.labName || process.env.MHC_CONTAINERS_NAME || 'ctr',
      process.env.MHC_PROFILE ? Profile.load(process.env.MHC_PROFILE) : undefined,
    );
  }
  if (!isSshTarget(name)) {
    const lab = o.labName || process.env.MHC_LAB_ATTACH || process.env.MHC_LAB || 'suite';
    const s = readState(lab);
    return StartedNetnsLab.attach(lab, Profile.load(s?.profileDir ?? process.env.MHC_PROFILE ?? 'seed'));
  }
  if (!o.sshConfig)
    throw new HarnessError(
      `MHC_TARGET=${name}: its config was not loaded`,
      'run through npm run chaos -- --target NAME (or vitest, whose global setup loads it)',
    );
  return sshTargetFor(o.sshConfig);
}
