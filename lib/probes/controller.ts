// biome-ignore-all lint/suspicious/noExplicitAny: crmadmin's XML is parsed untyped and mapped into a typed answer here
import { XMLParser } from 'fast-xml-parser';
import type { Target } from '../targets/target.js';

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' });

/** The DC's name from `crmadmin -D --output-as=xml`. */
export function parseDc(text: string): string | undefined {
  return (xml.parse(text) as any)?.['pacemaker-result']?.dc?.node_name || undefined;
}

/** A controller's state from `crmadmin -S NODE --output-as=xml` (S_IDLE, S_POLICY_ENGINE, S_TRANSITION_ENGINE, …). */
export function parseControllerState(text: string): string | undefined {
  return (xml.parse(text) as any)?.['pacemaker-result']?.crmd?.state || undefined;
}

/**
 * Whether Pacemaker is still at work: no DC (an election), or a DC that is not idle (computing or
 * running a transition: a fencing, a promotion). Asked of the db hosts in turn; undefined when
 * none answers (nothing to wait for that the harness could see).
 */
export async function pacemakerBusy(t: Target): Promise<boolean | undefined> {
  for (const h of t.profile.dbHosts) {
    const d = await t.exec(h.name, crmadmin(['-D']), { check: false, timeoutMs: 5_000 });
    if (d.exitCode !== 0) continue;
    const dc = parseDc(d.stdout);
    if (!dc) return true;
    const s = await t.exec(h.name, crmadmin(['-S', dc]), { check: false, timeoutMs: 5_000 });
    if (s.exitCode !== 0) return true;
    return parseControllerState(s.stdout) !== 'S_IDLE';
  }
  return undefined;
}

/**
 * crmadmin bounded on the host itself: it waits for the controller's answer (found on the lab: a
 * `crmadmin -D` left waiting for 9 minutes during case 6), and a command still running on the
 * host keeps the harness's exec waiting for its output even after the exec's own timeout.
 */
const crmadmin = (args: string[]) => ['timeout', '-s', 'KILL', '4', 'crmadmin', '--timeout=3s', ...args, '--output-as=xml'];
