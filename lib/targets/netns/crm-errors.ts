import { join, relative } from 'node:path';
import type { Profile } from '../../profile/load.js';
import { crmStatements } from '../../profile/crm.js';
import { HarnessError } from '../../util/errors.js';
import { redact } from '../../util/redact.js';

/**
 * Turns crmsh's complaint about the configuration it was given into an error that names the
 * profile file and the line of the statement at fault.
 */
/** crm colours its messages (ESC [ … m). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is exactly what is matched
const ANSI_COLOUR = /\x1b\[[0-9;]*m/g;

export function crmErrorToProfile(profile: Profile, output: string): HarnessError {
  const file = relative(process.cwd(), join(profile.dir, 'cluster.crm'));
  const text =
    redact(output.replace(ANSI_COLOUR, ''))
      .split('\n')
      .filter((l) => /ERROR|error|rejected|invalid|not found|unknown/i.test(l))
      .join('\n')
      .trim() || redact(output.replace(ANSI_COLOUR, '')).trim();
  const line = offendingLine(profile.files.clusterCrm, text);
  // A variant's cluster.crm is applied merged over its base's: its lines are the merged text's.
  const merged = profile.baseDir ? ` merged over ${relative(process.cwd(), join(profile.baseDir, 'cluster.crm'))}` : '';
  return new HarnessError(
    `Pacemaker/crmsh rejected ${file}${merged}${line ? ` line ${line}${merged ? ' of the merged text' : ''}` : ''}:\n${text}`,
    `fix the profile (${file}) and run up again`,
  );
}

export function offendingLine(crm: string, message: string): number | undefined {
  const stmts = crmStatements(crm);
  // Syntax errors quote the statement: "ERROR: 4: syntax: ... parsing 'primitiv vip2 ...'". crmsh's
  // own number counts statements its way, not file lines, so find the quoted text instead.
  const quoted = message.match(/parsing '([^']+)'/)?.[1];
  if (quoted) {
    const hit = stmts.find((s) => s.words.join(' ') === quoted.trim().split(/\s+/).join(' '));
    if (hit) return hit.line;
  }
  // Otherwise crmsh names the element or attribute it disliked; find the statement that mentions it.
  const names = [...message.matchAll(/["'`]?([A-Za-z][\w:.-]{2,})["'`]?/g)].map((m) => m[1]!);
  for (const n of names) {
    if (['ERROR', 'WARNING', 'error', 'warning', 'configure', 'load', 'update', 'INFO', 'cib', 'property', 'primitive'].includes(n))
      continue;
    const hit = stmts.find((s) => s.words.some((w) => w === n || w.startsWith(`${n}=`)));
    if (hit) return hit.line;
  }
  return undefined;
}
