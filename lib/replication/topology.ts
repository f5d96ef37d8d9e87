import type { Target } from '../targets/target.js';
import { HarnessError } from '../util/errors.js';
import { dbPair, hostOf, openServer, readFacts, type ConnectOptions, type ServerFacts } from './server.js';

/** What each db host says, and the roles that follow from who replicates from whom. */
export interface Topology {
  servers: Array<{ host: string; facts?: ServerFacts; error?: string }>;
  /** The host another one replicates from (or the only writable one when nobody replicates). */
  primary?: string;
  /** The host that replicates from the primary. */
  replica?: string;
  /** Hosts with a replica channel, and their source's host name. */
  channels: Array<{ replica: string; source: string }>;
}

/**
 * Reads both db hosts. An unreachable host is recorded (health reports it); a refused login is
 * thrown, since it is the caller's input that is wrong, not the cluster.
 */
export async function readTopology(t: Target, opts: ConnectOptions = {}): Promise<Topology> {
  const read = await Promise.allSettled(
    dbPair(t).map(async (host) => {
      try {
        const s = await openServer(t, host, opts);
        try {
          return { host, facts: await readFacts(s) };
        } finally {
          await s.close();
        }
      } catch (e) {
        if (e instanceof HarnessError && /access denied/.test(e.message)) throw e;
        return { host, error: (e as Error).message };
      }
    }),
  );
  // Refused logins end the read; the first host in the profile's order is named, whichever answered first.
  const refused = read.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (refused) throw refused.reason;
  const servers = read.map((r) => (r as PromiseFulfilledResult<Topology['servers'][number]>).value);
  const channels = servers.flatMap((s) => (s.facts?.replica ? [{ replica: s.host, source: hostOf(t, s.facts.replica.sourceHost) }] : []));
  const topo: Topology = { servers, channels };
  if (channels.length === 1) {
    topo.replica = channels[0]!.replica;
    topo.primary = channels[0]!.source;
  } else if (channels.length === 0) {
    const writable = servers.filter((s) => s.facts && !s.facts.readOnly);
    if (writable.length === 1) topo.primary = writable[0]!.host;
  }
  return topo;
}

export const factsOf = (topo: Topology, host: string | undefined) => topo.servers.find((s) => s.host === host)?.facts;
