import { pidOf, startMariadb, stopMariadb } from '../cluster-ops.js';
import type { History } from '../history.js';
import { localGtidsOnReplica, replicaRunning, replicationState, writablePrimary } from '../probes/replication.js';
import { readFacts, withServers, type Server } from '../replication/server.js';
import { waitForGtids } from '../replication/catchup.js';
import type { Target } from '../targets/target.js';
import { mariadbBack } from './mysql-crash.js';
import { HarnessError } from '../util/errors.js';
import { waitFor } from '../util/wait.js';

/**
 * Bounds: a primary elected after the act's other undos (a start, the agent's election, a
 * promotion); Pacemaker stopping or starting MariaDB (the agent's stop/start timeouts); the
 * repaired replica catching up.
 */
const PRIMARY_WAIT_MS = 120_000;
const PACEMAKER_OP_MS = 120_000;
const CATCH_UP_MS = 60_000;

/** What repairs the replica's data while its server runs outside Pacemaker; returns what it did. */
export type ReplicaFix = (primary: Server, replica: Server) => Promise<string>;

/**
 * A spoiled replica put right where Pacemaker runs MariaDB, whichever node the act's failover
 * left primary. A replica that replicates with nothing of its own (the agent restarted a stopped
 * SQL thread, or the spoiled node was promoted cleanly) only has to catch up. A broken one is
 * repaired as an operator must under the agent: repairing it in place would race the agent, whose
 * monitor fails a broken replica so that Pacemaker restarts it (or has banned it after
 * migration-threshold failures). So: the node in standby (Pacemaker stops its MariaDB), the server
 * started by hand and repaired, stopped again, then standby off and a cleanup, so that the agent
 * starts it as a replica of the primary; it must catch up.
 */
export async function restoreReplicaUnderPacemaker(t: Target, h: History, spoiled: string, fix: ReplicaFix): Promise<void> {
  const primary = await waitFor(
    "a writable primary (Pacemaker's promotion) before the replica's repair",
    async () => writablePrimary(await replicationState(t)),
    { timeoutMs: PRIMARY_WAIT_MS, intervalMs: 1_000 },
  );
  const replica = t.profile.dbHosts.find((x) => x.name !== primary)!.name;
  if (replica !== spoiled) {
    // The spoiled node was promoted: the other comes back as its replica once Pacemaker has
    // started it (after its stop or its fencing's boot), or it holds writes the new primary lacks.
    const back = await waitFor(`${replica} to replicate from ${primary}`, () => replicatesCleanly(t, primary, replica), {
      timeoutMs: PACEMAKER_OP_MS,
      intervalMs: 1_000,
    }).catch(() => false);
    if (!back)
      throw new HarnessError(
        `the spoiled replica ${spoiled} was promoted, and ${replica} does not replicate from it cleanly`,
        'the data check of this case says what differs; rebuild the lab (npm run lab -- down, then up)',
      );
    return catchUp(t, h, primary, replica, `${spoiled} was promoted; ${replica} replicates from it`);
  }
  if (await replicatesCleanly(t, primary, replica)) return catchUp(t, h, primary, replica, `${replica} replicates from ${primary}`);
  const done = await repairInStandby(t, h, primary, replica, fix);
  await catchUp(
    t,
    h,
    primary,
    replica,
    `${replica} in standby (Pacemaker stopped its MariaDB), started by hand and repaired: ${done}; stopped; standby off and crm_resource --cleanup: Pacemaker started it as a replica of ${primary}`,
  );
}

/** The replica repaired outside Pacemaker (standby), then handed back: standby off, cleanup, started by the agent. */
async function repairInStandby(t: Target, h: History, primary: string, replica: string, fix: ReplicaFix): Promise<string> {
  let done: string;
  await setStandby(t, primary, replica, true);
  try {
    await waitFor(`Pacemaker to stop MariaDB on ${replica} (standby)`, async () => !(await pidOf(t, replica, 'mariadbd')), {
      timeoutMs: PACEMAKER_OP_MS,
      intervalMs: 500,
    });
    await startMariadb(t, replica, 60_000);
    done = await withServers(t, [primary, replica], ([p, r]) => fix(p!, r!));
    await stopMariadb(t, replica);
  } finally {
    await setStandby(t, primary, replica, false);
  }
  await mariadbBack(t, h, replica);
  await startMariadb(t, replica, PACEMAKER_OP_MS); // started by Pacemaker: only waits for it to accept connections
  return done;
}

/** The replica answering with both threads running and no GTID of its own. */
async function replicatesCleanly(t: Target, primary: string, replica: string): Promise<boolean> {
  const states = await replicationState(t);
  const [p, r] = [primary, replica].map((host) => states.find((s) => s.host === host));
  return !!p && !!r && replicaRunning(r) && localGtidsOnReplica(r, p.gtidExecuted).length === 0;
}

async function catchUp(t: Target, h: History, primary: string, replica: string, what: string): Promise<void> {
  const target = await withServers(t, [primary, replica], async ([p, r]) => {
    const want = (await readFacts(p!)).gtid;
    await waitForGtids(r!, want, CATCH_UP_MS, `${replica} replicating from ${primary} after the spoiled replica`);
    return want;
  });
  h.step('recovery beyond the notebook', `${what}; caught up at ${target}`);
}

/** crm_attribute's node standby attribute (what `crm node standby` sets), run on the primary's node. */
async function setStandby(t: Target, on: string, node: string, standby: boolean): Promise<void> {
  const change = standby ? ['--update', 'on'] : ['--delete'];
  await t.exec(on, ['crm_attribute', '--node', node, '--name', 'standby', ...change], { timeoutMs: 30_000 });
}
