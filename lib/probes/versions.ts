import { XMLParser } from 'fast-xml-parser';
import type { Target } from '../targets/target.js';

/** The cluster software a run ran against, as the db host reports it. */
export interface ClusterVersions {
  pacemaker?: string;
  corosync?: string;
  mariadb?: string;
}

/** `crm_mon --version --output-as=xml`: <version program="Pacemaker" version="2.1.5" …/>. */
export function parsePacemakerVersion(xml: string): string | undefined {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
  const v = doc?.['pacemaker-result']?.version;
  return typeof v?.version === 'string' ? v.version : undefined;
}

/** `corosync -v`: "Corosync Cluster Engine, version '3.1.7'" (it has no machine-readable form). */
export function parseCorosyncVersion(text: string): string | undefined {
  return /version '([^']+)'/.exec(text)?.[1];
}

/** `mariadbd --version`: "mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for …" (the server binary the profile runs). */
export function parseMariadbVersion(text: string): string | undefined {
  return /\bVer\s+(\S+)/.exec(text)?.[1];
}

/** Each version read on `host`; a program that does not answer is left out, not guessed. */
export async function clusterVersions(t: Target, host: string): Promise<ClusterVersions> {
  const run = async (argv: string[]) => {
    const r = await t.exec(host, argv, { check: false, timeoutMs: 10_000 }).catch(() => undefined);
    return r?.exitCode === 0 ? r.stdout : '';
  };
  const [pm, cs, db] = await Promise.all([
    run(['crm_mon', '--version', '--output-as=xml']),
    run(['corosync', '-v']),
    run(['sh', '-c', 'command -v mariadbd >/dev/null && exec mariadbd --version || exec mysqld --version']),
  ]);
  return { pacemaker: parsePacemakerVersion(pm || '<x/>'), corosync: parseCorosyncVersion(cs), mariadb: parseMariadbVersion(db) };
}
