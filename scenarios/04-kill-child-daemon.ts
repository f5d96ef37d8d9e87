import { killChild } from '../lib/faults/index.js';
import type { PacemakerChild } from '../lib/probes/processes.js';
import { scenario } from '../lib/scenario.js';

/**
 * Notebook row 4: `kill -9` of a pacemaker child daemon (the CIB daemon in the notebook), each one.
 * A file per child (04-kill-<child>.test.ts): vitest gives a whole file to one worker, so with
 * parallel labs the row's six runs are shared out instead of taking one lab for all six.
 */
export function killChildDaemonRow(child: PacemakerChild): void {
  scenario({
    id: `4-${child}`,
    title: `kill -9 ${child} on the VIP holder`,
    acts: ({ holder }) => [{ id: `4-kill-${child}`, fault: killChild(holder, child) }],
  });
}
