import { corosyncKill } from '../lib/faults/index.js';
import { scenario } from '../lib/scenario.js';

// Notebook row 6: `kill -9 <corosync pid>` on the VIP holder; same recovery as row 5.
scenario({
  id: '6',
  title: 'kill -9 corosync on the VIP holder',
  acts: ({ holder }) => [{ id: '6-kill-corosync', fault: corosyncKill(holder) }],
});
