import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PROFILE_OCF_PROVIDER } from '../../profile/crm.js';
import type { Profile } from '../../profile/load.js';

/** Where Pacemaker's executor finds OCF agents (OCF_ROOT/resource.d/PROVIDER/TYPE). */
const OCF_RESOURCE_DIR = '/usr/lib/ocf/resource.d';

/**
 * Installs an executable as a package would, leaving an identical copy alone. The lab's hosts
 * share this machine's /usr, so one copy serves every lab.
 */
export function installExecutable(source: string, path: string): void {
  const want = readFileSync(source);
  if (existsSync(path) && readFileSync(path).equals(want)) return;
  mkdirSync(dirname(path), { recursive: true });
  copyFileSync(source, path);
  chmodSync(path, 0o755);
}

/** Where Pacemaker's executor finds the profile's agent TYPE (ocf:mhc:TYPE). */
export const profileAgentPath = (type: string) => join(OCF_RESOURCE_DIR, PROFILE_OCF_PROVIDER, type);

/** The profile's own resource agents (profiles/NAME/ocf/TYPE) as ocf:mhc:TYPE; their paths. */
export function installProfileAgents(profile: Profile): string[] {
  return Object.entries(profile.ocfAgents).map(([type, source]) => {
    const path = profileAgentPath(type);
    installExecutable(source, path);
    return path;
  });
}
