import { killPacemakerd } from '../lib/faults/index.js';
import { scenario } from '../lib/scenario.js';

// Notebook row 3: `kill -9 <pacemakerd pid>` on the VIP holder. The notebook's warnings for that
// state are 03-then-corosync-stop.test.ts (a file of their own, for parallel labs).
scenario({
  id: '3',
  title: 'kill -9 pacemakerd on the VIP holder',
  acts: ({ holder }) => [{ id: '3-kill-pacemakerd', fault: killPacemakerd(holder) }],
});
