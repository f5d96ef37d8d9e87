import { pause } from '../../lib/faults/pause.js';
import { scenario } from '../../lib/scenario.js';

// Beyond the notebook (issue 12), after Jepsen's :pause: the process alive but silent.
// corosync on the VIP holder stopped for 2 × (token + consensus) + 3 s: its peer declares it lost.
scenario({
  id: '10-corosync',
  title: 'SIGSTOP corosync on the VIP holder past its token timeout, then SIGCONT',
  acts: ({ holder }) => [{ id: '10-pause-corosync', fault: pause(holder, 'corosync') }],
});

// mariadbd on the primary (the VIP holder) stopped for 15 s: the cluster does not watch MySQL.
scenario({
  id: '10-mariadbd',
  title: 'SIGSTOP mariadbd on the primary for 15 s, then SIGCONT',
  acts: ({ holder }) => [{ id: '10-pause-mariadbd-primary', fault: pause(holder, 'mariadbd', 15) }],
});
