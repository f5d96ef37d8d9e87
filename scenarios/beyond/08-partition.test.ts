import { oneWayPartition, twoWayPartition } from '../../lib/faults/partition.js';
import { scenario } from '../../lib/scenario.js';

// Beyond the notebook (issue 12), after Pacemaker CTS's SplitBrain and crmsh crash_test's
// --split-brain-iptables: corosync's traffic between the db hosts dropped (iptables, INPUT, on
// the db hosts), MySQL replication and the clients on batch1 still reaching both — the true split
// brain. Held 2 × (token + consensus) + 3 s, then healed.
scenario({
  id: '8-two-way',
  title: 'partition between the db hosts (corosync traffic, both ways), then healed',
  acts: ({ holder, other }) => [{ id: '8-partition-two-way', fault: twoWayPartition(holder, other) }],
});

// One way: the VIP holder no longer hears its peer; the peer still hears the holder.
scenario({
  id: '8-one-way',
  title: 'partition one way: the VIP holder drops what comes from its peer, then healed',
  acts: ({ holder, other }) => [{ id: '8-partition-one-way', fault: oneWayPartition(holder, other) }],
});
