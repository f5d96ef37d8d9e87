import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterVersions } from '../probes/versions.js';

/** What a run ran against: shown as the Allure report's environment. */
export interface RunEnvironment {
  profile: string;
  target: string;
  versions: ClusterVersions;
}

const FILE = 'environment.json';

export function writeRunEnvironment(runDir: string, env: RunEnvironment): void {
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, FILE), `${JSON.stringify(env, null, 2)}\n`);
}

export function readRunEnvironment(runDir: string): RunEnvironment | undefined {
  const f = join(runDir, FILE);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as RunEnvironment) : undefined;
}

/** Allure's environment.properties: one `key = value` a line (keys without spaces). */
export function environmentProperties(env: RunEnvironment): string {
  const rows: [string, string | undefined][] = [
    ['profile', env.profile],
    ['target', env.target],
    ['pacemaker', env.versions.pacemaker],
    ['corosync', env.versions.corosync],
    ['mariadb', env.versions.mariadb],
  ];
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, ' ');
  return rows
    .filter(([, v]) => v)
    .map(([k, v]) => `${k} = ${esc(v!)}`)
    .join('\n')
    .concat('\n');
}

export function writeAllureEnvironment(resultsDir: string, env: RunEnvironment): void {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'environment.properties'), environmentProperties(env));
}
