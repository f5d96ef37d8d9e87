import { killChild } from '../lib/faults/index.js';
import { PACEMAKER_CHILDREN } from '../lib/probes/processes.js';
import { scenario } from '../lib/scenario.js';

// Notebook row 4: `kill -9` of a pacemaker child daemon (the CIB daemon in the notebook), each one.
for (const child of PACEMAKER_CHILDREN) {
  scenario({
    id: `4-${child}`,
    title: `kill -9 ${child} on the VIP holder`,
    acts: ({ holder }) => [{ id: `4-kill-${child}`, fault: killChild(holder, child) }],
  });
}
