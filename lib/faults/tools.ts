import type { Target } from '../targets/target.js';
import { HarnessError } from '../util/errors.js';

/** Commands the faults run on a host, and the Debian package that ships each. */
export const TOOL_PACKAGES = {
  iptables: 'iptables',
  tc: 'iproute2',
  ip: 'iproute2',
  ss: 'iproute2',
  ps: 'procps',
  kill: 'procps',
  setsid: 'util-linux',
  fallocate: 'util-linux',
  findmnt: 'util-linux',
  mount: 'mount',
  umount: 'mount',
  dd: 'coreutils',
  // the NFQUEUE packet delayer (queue-delay.py) where the kernel has no sch_netem
  python3: 'python3',
} as const;
export type Tool = keyof typeof TOOL_PACKAGES;

/**
 * One line per tool: `ok NAME` or `missing NAME` (POSIX sh, run on the host). An executable file
 * on PATH, not `command -v`: `kill` is also a shell builtin, and the targets run commands by
 * argv, which needs /bin/kill.
 */
export const toolProbeScript = (tools: readonly Tool[]) =>
  `for b in ${tools.join(' ')}; do f=missing; for d in $(echo "$PATH" | tr : ' '); do if [ -x "$d/$b" ]; then f=ok; break; fi; done; echo "$f $b"; done`;

/** The tools the probe's output does not report present (a tool the output does not mention counts as missing). */
export function missingTools(probeOutput: string, tools: readonly Tool[]): Tool[] {
  const ok = new Set([...probeOutput.matchAll(/^ok (\S+)$/gm)].map((m) => m[1]));
  return tools.filter((x) => !ok.has(x));
}

/** Where the missing package has to go, which depends on where the host's binaries come from. */
export function installHint(kind: Target['kind'], host: string, packages: string[]): string {
  const list = packages.join(' ');
  switch (kind) {
    case 'netns':
      return `the lab's hosts run this machine's binaries: apt-get install -y ${list} here (npm run setup installs it)`;
    case 'containers':
      return `the node image lacks it: add ${list} to NODE_PACKAGES in lib/targets/containers/image.ts (the image is rebuilt)`;
    default:
      return `on ${host}: apt-get install -y ${list}`;
  }
}

/** Missing tools as a user reads them ("tc (package iproute2), …") and the packages to install, each once. */
export function describeMissing(missing: readonly Tool[]): { what: string; packages: string[] } {
  return {
    what: missing.map((x) => `${x} (package ${TOOL_PACKAGES[x]})`).join(', '),
    packages: [...new Set(missing.map((x) => TOOL_PACKAGES[x]))],
  };
}

/** The error for tools missing on a host: names the fault, the commands and their packages, and where to install them. */
export function missingToolsError(fault: string, host: string, kind: Target['kind'], missing: readonly Tool[]): HarnessError {
  const { what, packages } = describeMissing(missing);
  return new HarnessError(`cannot inject "${fault}": ${host} lacks ${what}; nothing was injected`, installHint(kind, host, packages));
}

/**
 * Checks, before a fault changes anything, that its commands exist on each host it touches;
 * throws one error naming every missing command and its package.
 */
export async function requireTools(t: Target, fault: string, hosts: readonly string[], tools: readonly Tool[]): Promise<void> {
  for (const host of hosts) {
    const missing = await toolsMissingOn(t, fault, host, tools);
    if (missing.length) throw missingToolsError(fault, host, t.kind, missing);
  }
}

/** Which of the tools `host` lacks (for a fault that has another way when some are missing). */
export async function toolsMissingOn(t: Target, fault: string, host: string, tools: readonly Tool[]): Promise<Tool[]> {
  const r = await t.sh(host, toolProbeScript(tools), { check: false, timeoutMs: 10_000 });
  // No answer at all is not "everything missing": the host could not be asked.
  if (!/^(ok|missing) /m.test(r.stdout))
    throw new HarnessError(`cannot check the tools of "${fault}" on ${host}: ${(r.stderr || `exit ${r.exitCode}`).trim()}`);
  return missingTools(r.stdout, tools);
}
