export { SshTarget, type FirstHop, type SshTargetOptions } from './target.js';
export {
  defineSshTarget,
  loadSshTargetConfig,
  parseSshTargetConfig,
  sshTargetSchema,
  targetConfigFile,
  type SshTargetConfig,
  type SshTargetConfigInput,
} from './config.js';
