import { corosyncTimeouts } from '../cluster-ops.js';
import type { Target } from '../targets/target.js';

/**
 * How long a fault that silences corosync (a partition, a pause) holds unless told: long enough
 * for the peer to declare the node lost (token + consensus) twice over, and for Pacemaker to act
 * on it (+3 s, as an act's settle time). The seed's corosync 3 defaults give 16.2 s.
 */
export async function corosyncLossHoldMs(t: Target, host: string): Promise<number> {
  const { tokenMs, consensusMs } = await corosyncTimeouts(t, host);
  return 2 * (tokenMs + consensusMs) + 3000;
}
