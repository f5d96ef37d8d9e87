import { existsSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { HarnessError } from '../../util/errors.js';

/** Where target config files live: `MHC_TARGET=vagrant` is targets/vagrant.ts. */
export const TARGETS_DIR = resolve(import.meta.dirname, '../../../targets');

const hostName = z.string().regex(/^[a-z][a-z0-9-]{0,14}$/, 'a host name of the profile, like db1');
const endpoint = z.string().regex(/^[A-Za-z0-9.:_-]+?(:\d{1,5})?$/, 'an address or address:port, like 10.11.22.101 or 127.0.0.1:2222');

/**
 * How a daemon is started on a real host: a shell snippet run as root whose last output line is
 * the daemon's PID. The defaults start it in the background like the lab does; on a systemd VM
 * e.g. `systemctl start corosync && systemctl show -p MainPID --value corosync`.
 */
const daemonStart = z.object({ start: z.string().min(1) });

export const sshTargetSchema = z
  .object({
    $comment: z.string().optional(),
    kind: z.literal('ssh'),
    /** The profile the cluster was provisioned from (a name under profiles/ or a path). */
    profile: z.string().min(1).default('seed'),
    /** The login user; commands run as root (via `sudo -n` when this is not root). */
    user: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]*$/, 'a login name like vagrant')
      .default('vagrant'),
    /** Private key file (OpenSSH or PEM, no passphrase); `~` is the home directory. */
    keyPath: z.string().min(1),
    /** Run commands through `sudo -n` (required when user is not root). */
    sudo: z.boolean().default(true),
    /** SSH port on every host. */
    port: z.number().int().min(1).max(65535).default(22),
    /** A profile host (e.g. batch1) to jump through, like ssh -J: every connection starts there. */
    jumpHost: hostName.optional(),
    /** Where to reach a host's sshd instead of its profile address (e.g. a forwarded port), without a jump. */
    endpoints: z.record(hostName, endpoint).optional(),
    /** An OpenSSH known_hosts file; when set, every host key must match it (by name or address). */
    knownHosts: z.string().min(1).optional(),
    /** May the harness break this cluster? Destructive faults are refused unless true. */
    disposable: z.boolean().default(false),
    /** Per-daemon start commands (see daemonStart). */
    daemons: z
      .object({
        corosync: daemonStart,
        pacemaker: daemonStart,
        mariadb: daemonStart,
        sshd: daemonStart,
        qnetd: daemonStart,
        qdevice: daemonStart,
      })
      .partial()
      .default({}),
    /**
     * For testing this target against a netns lab: every connection starts inside that lab's
     * management host (as the lab's own streams do) instead of from this machine; the profile is
     * moved onto the lab's subnet. Leave jumpHost unset (the lab's batch1 runs no sshd).
     */
    viaLab: z
      .string()
      .regex(/^[a-z0-9-]+$/)
      .optional(),
    /** Connection set-up limit per host (TCP + SSH handshake + auth). */
    connectTimeoutMs: z.number().int().positive().default(10_000),
  })
  .superRefine((c, ctx) => {
    if (c.user !== 'root' && !c.sudo) {
      ctx.addIssue({
        code: 'custom',
        path: ['sudo'],
        message: `user "${c.user}" is not root, so commands need sudo: set sudo: true (and give ${c.user} passwordless sudo) or user: 'root'`,
      });
    }
  });

export type SshTargetConfigInput = z.input<typeof sshTargetSchema>;
export type SshTargetConfig = z.output<typeof sshTargetSchema> & {
  /** where it was loaded from (for labels and errors) */ source?: string;
};

/** For config files: `export default defineSshTarget({ ... })` gets type checking while editing. */
export function defineSshTarget(c: SshTargetConfigInput): SshTargetConfigInput {
  return c;
}

/** Validates a config object; errors name the file and key. */
export function parseSshTargetConfig(raw: unknown, source = 'target config'): SshTargetConfig {
  const r = sshTargetSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new HarnessError(`${source} is not a valid ssh target config:\n${lines.join('\n')}`, 'see targets/vagrant.ts for an example');
  }
  return { ...r.data, source };
}

/** The file a target name stands for: `vagrant` → targets/vagrant.ts; a path is used as is. */
export function targetConfigFile(nameOrPath: string): string {
  // A path (has a slash or an extension) is used as is; a bare name is looked up in targets/
  // (`vagrant` is targets/vagrant.ts, not the vagrant/ directory).
  if (/[/\\]|\.[cm]?[jt]s$/.test(nameOrPath)) {
    if (existsSync(nameOrPath) && statSync(nameOrPath).isFile()) return resolve(nameOrPath);
    throw new HarnessError(
      `target config ${nameOrPath} does not exist`,
      'targets are netns (the lab, default), a name under targets/ (e.g. vagrant), or a config file path',
    );
  }
  for (const ext of ['.ts', '.js', '.mjs']) {
    const f = resolve(TARGETS_DIR, nameOrPath + ext);
    if (existsSync(f)) return f;
  }
  throw new HarnessError(
    `no target "${nameOrPath}": neither a file nor targets/${nameOrPath}.ts`,
    'targets are netns (the lab, default) or an ssh config such as targets/vagrant.ts',
  );
}

/** Loads and validates a target config file (its default export, or an export named `config`). */
export async function loadSshTargetConfig(nameOrPath: string): Promise<SshTargetConfig> {
  const file = targetConfigFile(nameOrPath);
  const source = relative(process.cwd(), file) || file;
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    throw new HarnessError(`${source}: cannot be loaded: ${(e as Error).message}`);
  }
  const raw = mod.default ?? mod.config;
  if (!raw) throw new HarnessError(`${source} exports no config`, "export default defineSshTarget({ kind: 'ssh', ... })");
  return parseSshTargetConfig(raw, source);
}
