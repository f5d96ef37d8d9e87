import { mysqlCrash } from '../../lib/faults/mysql-crash.js';
import { scenario } from '../../lib/scenario.js';

// Beyond the notebook (issue 12), after Percona PRM's tests: kill -9 mariadbd, then its restart
// after 5 s as the target starts MariaDB. The seed's cluster manages only the VIP.
scenario({
  id: '11-primary',
  title: 'kill -9 mariadbd on the primary (the VIP holder), restarted after 5 s',
  acts: ({ holder }) => [{ id: '11-kill-mariadbd-primary', fault: mysqlCrash(holder, 'primary') }],
});

scenario({
  id: '11-replica',
  title: 'kill -9 mariadbd on the replica, restarted after 5 s',
  acts: ({ other }) => [{ id: '11-kill-mariadbd-replica', fault: mysqlCrash(other, 'replica') }],
});
