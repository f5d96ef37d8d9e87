import { corosyncStop } from '../lib/faults/index.js';
import { scenario } from '../lib/scenario.js';

// Notebook row 5: `service corosync stop` on the VIP holder. Recovery: remove the VIP by hand,
// then start corosync and pacemaker.
scenario({
  id: '5',
  title: 'corosync stop on the VIP holder',
  acts: ({ holder }) => [{ id: '5-corosync-stop', fault: corosyncStop(holder) }],
});
