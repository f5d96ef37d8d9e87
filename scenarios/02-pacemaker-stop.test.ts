import { pacemakerRestart, pacemakerStop } from '../lib/faults/index.js';
import { scenario } from '../lib/scenario.js';

// Notebook row 2: `service pacemaker stop` / `restart` on the VIP holder.
scenario({
  id: '2-stop',
  title: 'pacemaker stop on the VIP holder',
  acts: ({ holder }) => [{ id: '2-pacemaker-stop', fault: pacemakerStop(holder) }],
});

scenario({
  id: '2-restart',
  title: 'pacemaker restart on the VIP holder',
  acts: ({ holder }) => [{ id: '2-pacemaker-restart', fault: pacemakerRestart(holder) }],
});
