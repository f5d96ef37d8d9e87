import { hostCrash } from '../../lib/faults/host-crash.js';
import { scenario } from '../../lib/scenario.js';

// Beyond the notebook (issue 12): a power loss — every process of the host killed at once and
// its link down for 20 s — then the host boots in the notebook's order (link up without the VIP,
// corosync, MariaDB, pacemaker).
scenario({
  id: '12-holder',
  title: 'power loss of the VIP holder (the primary) for 20 s, then boot',
  acts: ({ holder }) => [{ id: '12-power-loss-vip-holder', fault: hostCrash(holder, 20) }],
});

scenario({
  id: '12-replica',
  title: 'power loss of the replica for 20 s, then boot',
  acts: ({ other }) => [{ id: '12-power-loss-replica', fault: hostCrash(other, 20) }],
});
