import { Profile } from '../../profile/load.js';
import { HarnessError } from '../../util/errors.js';
import { StartedNetnsLab } from '../netns/lab.js';
import type { TargetProvider } from '../provider.js';
import { loadSshTargetConfig, type SshTargetConfig } from '../ssh/config.js';
import { SshTarget } from '../ssh/target.js';

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

/** Any other --target name: an ssh target config (targets/NAME.ts or a path), e.g. the Vagrant cluster. */
export const sshProvider: TargetProvider = {
  kind: 'ssh',
  serves: () => true,

  async preflight(c) {
    await loadSshTargetConfig(c.target);
  },

  async setUpSuite(c) {
    return { context: { labName: '', sshTarget: await loadSshTargetConfig(c.target) }, teardown: async () => {} };
  },

  async suiteTarget(c, s) {
    if (!s.sshTarget) throw new HarnessError(`--target ${c.target}: its config was not loaded by the suite's setup`);
    return sshTargetFor(s.sshTarget);
  },

  async clusterToRepair(c) {
    return sshTargetFor(await loadSshTargetConfig(c.target));
  },
};
