import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HarnessError } from '../../util/errors.js';

export interface KnownHostEntry {
  patterns: string[];
  keyType: string;
  key: Buffer;
  revoked: boolean;
}

/** Parses an OpenSSH known_hosts file (plain and hashed names; @revoked; @cert-authority is skipped). */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    let f = line.split(/\s+/);
    let revoked = false;
    if (f[0]!.startsWith('@')) {
      if (f[0] === '@cert-authority') continue;
      revoked = f[0] === '@revoked';
      f = f.slice(1);
    }
    if (f.length < 3) continue;
    out.push({ patterns: f[0]!.split(','), keyType: f[1]!, key: Buffer.from(f[2]!, 'base64'), revoked });
  }
  return out;
}

function matches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  if (pattern.startsWith('!')) return false;
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(name);
}

/** The names a host may be listed under: `name`, or `[name]:port` off port 22. */
export function knownHostsNames(names: string[], port: number): string[] {
  return names.map((n) => (port === 22 ? n : `[${n}]:${port}`));
}

/**
 * 'ok' when one of the entries listing any of `names` has this key; 'mismatch' when the host is
 * listed with other keys only (or this key is revoked); 'unknown' when it is not listed.
 */
export function checkHostKey(entries: KnownHostEntry[], names: string[], key: Buffer): 'ok' | 'mismatch' | 'unknown' {
  const listed = entries.filter((e) => e.patterns.some((p) => names.some((n) => matches(p, n))));
  if (listed.some((e) => e.revoked && e.key.equals(key))) return 'mismatch';
  if (listed.some((e) => !e.revoked && e.key.equals(key))) return 'ok';
  return listed.length ? 'mismatch' : 'unknown';
}

export function loadKnownHosts(path: string): KnownHostEntry[] {
  try {
    return parseKnownHosts(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new HarnessError(`knownHosts ${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
