import { linkDown } from '../lib/faults/index.js';
import { scenario } from '../lib/scenario.js';

// Notebook row 1: `ifdown eth1; sleep 10; ifup eth1` on the VIP holder.
scenario({
  id: '1',
  title: 'network down on the VIP holder for 10 s',
  acts: ({ holder }) => [{ id: '1-network-down', fault: linkDown(holder, 10) }],
});
