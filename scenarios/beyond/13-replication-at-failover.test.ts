import { corosyncKill, pacemakerStop } from '../../lib/faults/index.js';
import { errantTransaction, replicaDelayed, replicaSqlThreadStopped } from '../../lib/faults/replication-at-failover.js';
import { scenario } from '../../lib/scenario.js';

// Beyond the notebook (issue 12), after Percona PRM's slave-lag and broken-replication tests and
// orchestrator's lagging candidate and errant GTID: the replica is spoiled, then `service pacemaker
// stop` on the VIP holder (the primary) moves the VIP to it, as in row 2.
scenario({
  id: '13-lagging',
  title: "the replica's SQL thread stopped, then pacemaker stop on the VIP holder",
  acts: ({ holder, other }) => [
    { id: '13-replica-sql-thread-stopped', fault: replicaSqlThreadStopped(holder, other) },
    { id: '13-failover-to-lagging-replica', fault: pacemakerStop(holder) },
  ],
});

scenario({
  id: '13-errant',
  title: 'an errant transaction on the replica (its replication breaks), then pacemaker stop on the VIP holder',
  acts: ({ holder, other }) => [
    { id: '13-errant-transaction-on-replica', fault: errantTransaction(holder, other) },
    { id: '13-failover-to-errant-replica', fault: pacemakerStop(holder) },
  ],
});

// Longer than a failover by fencing takes on the hardened lab (16-20 s in case 6), so that the
// replica still holds acknowledged writes it has not applied when it is promoted.
const REPLICA_DELAY_S = 30;

// The promotion itself, with no demotion before it (the primary lost, as in row 6): the replica
// must apply what it received before it takes writes.
scenario({
  id: '13-delayed',
  title: `the replica applying ${REPLICA_DELAY_S} s late (MASTER_DELAY), then kill -9 corosync on the VIP holder`,
  acts: ({ holder, other }) => [
    { id: '13-replica-delayed', fault: replicaDelayed(holder, other, REPLICA_DELAY_S) },
    { id: '13-crash-failover-to-delayed-replica', fault: corosyncKill(holder) },
  ],
});
