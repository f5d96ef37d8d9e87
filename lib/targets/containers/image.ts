import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { HarnessError } from '../../util/errors.js';
import { StepLog } from '../../util/log.js';
import type { DockerEngine } from './engine.js';

/** What the lab's hosts run: the same packages as the netns lab uses from this machine. */
export const NODE_PACKAGES = [
  'pacemaker',
  'pacemaker-cli-utils',
  'corosync',
  // the hardened profile's third quorum vote: qnetd on batch1, qdevice on the db nodes
  'corosync-qnetd',
  'corosync-qdevice',
  'crmsh',
  'resource-agents',
  'mariadb-server',
  'mariadb-client',
  'openssh-server',
  'socat',
  'tini',
  'iproute2',
  'procps',
  // the partition and packet-loss faults (iproute2's tc delays packets)
  'iptables',
];
export const IMAGE_REPO = 'mysql-ha-chaos/node';
const BUILD_SCRIPT = join(import.meta.dirname, 'build-rootfs.sh');
/** Root filesystem tarballs, kept so that another engine (another data root) imports without rebuilding. */
export const IMAGE_CACHE = process.env.MHC_IMAGE_CACHE ?? '/var/lib/mysql-ha-chaos/images';
const MIRROR = process.env.MHC_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';

/** The image tag: a hash of the package list and the build script, so a change to either rebuilds. */
export function imageRef(): string {
  const h = createHash('sha256').update(NODE_PACKAGES.join(' ')).update('\0').update(readFileSync(BUILD_SCRIPT)).digest('hex').slice(0, 12);
  return `${IMAGE_REPO}:${h}`;
}

export interface ImageResult {
  ref: string;
  /** What had to be done: nothing (in the engine), import (tarball cached), or build + import. */
  did: 'cached' | 'import' | 'build';
  buildMs: number;
  importMs: number;
}

export async function imageExists(engine: DockerEngine, ref = imageRef()): Promise<boolean> {
  return (await engine.docker(['image', 'inspect', '--format', '{{.Id}}', ref], { check: false, timeoutMs: 30_000 })).exitCode === 0;
}

/**
 * The node image in this engine: nothing to do if it is there; else the cached root filesystem
 * is imported; else it is built (debootstrap bookworm + the packages, service starts refused)
 * and imported. `build: false` refuses to build and says how to.
 */
export async function ensureImage(
  engine: DockerEngine,
  log = new StepLog(() => {}),
  o: { build?: boolean; cacheDir?: string } = {},
): Promise<ImageResult> {
  const ref = imageRef();
  if (await imageExists(engine, ref)) return { ref, did: 'cached', buildMs: 0, importMs: 0 };
  const cache = o.cacheDir ?? IMAGE_CACHE;
  const tar = join(cache, `node-${ref.split(':')[1]}.tar`);
  let buildMs = 0;
  let did: ImageResult['did'] = 'import';
  if (!existsSync(tar)) {
    if (o.build === false) {
      throw new HarnessError(
        `image ${ref} is missing (not in engine "${engine.name}", no root filesystem at ${tar})`,
        'let the containers target build it (unset MHC_CONTAINERS_BUILD=0), or run npm run bench:containers once',
      );
    }
    if (!existsSync('/usr/sbin/debootstrap'))
      throw new HarnessError(
        'building the node image needs debootstrap, which is not installed',
        'apt-get install debootstrap (or npm run setup)',
      );
    mkdirSync(cache, { recursive: true });
    const t = Date.now();
    await log.step(
      `build the node image's root filesystem (debootstrap bookworm + ${NODE_PACKAGES.length} packages from ${MIRROR})`,
      async () => {
        const r = await execa('bash', [BUILD_SCRIPT, tar, MIRROR, ...NODE_PACKAGES], { reject: false, timeout: 30 * 60_000, all: true });
        if (r.exitCode !== 0) {
          throw new HarnessError(
            `building the node image failed (${r.timedOut ? 'timed out after 30 min' : `exit ${r.exitCode}`}):\n${String(r.all ?? '')
              .trim()
              .split('\n')
              .slice(-20)
              .join('\n')}`,
            `the build needs ${MIRROR} reachable (MHC_DEBIAN_MIRROR for another mirror)`,
          );
        }
      },
    );
    buildMs = Date.now() - t;
    did = 'build';
  }
  const t = Date.now();
  await log.step(`docker import ${ref}`, () =>
    engine.docker(
      [
        'import',
        '--change',
        'ENTRYPOINT ["/usr/bin/tini", "-s", "--"]',
        '--change',
        'CMD ["sleep", "infinity"]',
        '--change',
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8',
        '--change',
        `LABEL org.mysql-ha-chaos.packages="${NODE_PACKAGES.join(' ')}"`,
        '-',
        ref,
      ],
      { inputFile: tar, timeoutMs: 10 * 60_000 },
    ),
  );
  if (!(await imageExists(engine, ref))) throw new HarnessError(`image ${ref} is missing after docker import`, `see ${engine.logFile}`);
  return { ref, did, buildMs, importMs: Date.now() - t };
}
