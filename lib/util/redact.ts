/**
 * Secrets registry: every password the harness learns is registered here, and everything that
 * leaves the process (logs, errors, report attachments) passes through redact().
 *
 * Two layers: a password in a place that names it (password=…, IDENTIFIED BY '…', -p…, user:pw@)
 * is always masked; a registered value is also masked wherever it appears verbatim, unless it is
 * shorter than MIN_VERBATIM — the notebook's admin password is "root", and masking every "root"
 * would garble logs while hiding nothing.
 */
const secrets = new Set<string>();
const MIN_VERBATIM = 5;

export function registerSecret(value: string | undefined): void {
  if (value) secrets.add(value);
}

const CONTEXTS: RegExp[] = [
  /((?:password|passwd|pwd|secret)\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;)]+)/gi,
  /((?:IDENTIFIED\s+BY|MASTER_PASSWORD\s*=|SOURCE_PASSWORD\s*=)\s*)('[^']*'|"[^"]*")/gi,
  /(\s-p)(\S+)/g,
  /(\b[\w.-]+:)([^@\s/]+)(@[\w.-]+)/g,
];

export function redact(text: string): string {
  let out = text;
  for (const re of CONTEXTS) {
    out = out.replace(re, (_m, pre: string, _secret: string, post?: string) => `${pre}***${typeof post === 'string' ? post : ''}`);
  }
  for (const s of [...secrets].filter((x) => x.length >= MIN_VERBATIM).sort((a, b) => b.length - a.length)) {
    out = out.split(s).join('***');
  }
  return out;
}
