import { diskFull } from '../../lib/faults/disk-full.js';
import { scenario } from '../../lib/scenario.js';

// Beyond the notebook (issue 12, Jepsen's file faults on the disk): the datadir's filesystem full
// for 20 s, then freed. MariaDB waits for space instead of failing; the seed's cluster manages only the VIP.
scenario({
  id: '14-primary',
  title: "the primary's datadir full for 20 s (the VIP holder)",
  acts: ({ holder }) => [{ id: '14-disk-full-primary', fault: diskFull(holder, 'primary') }],
});

scenario({
  id: '14-replica',
  title: "the replica's datadir full for 20 s",
  acts: ({ other }) => [{ id: '14-disk-full-replica', fault: diskFull(other, 'replica') }],
});
