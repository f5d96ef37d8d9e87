import type { StepLog } from '../../util/log.js';
import { type BootTarget, bootCluster } from './boot-cluster.js';
import { bootMysql, handMysqlToPacemaker } from './boot-mysql.js';

/**
 * The daemons and the profile's configuration. MariaDB run by Pacemaker (a promotable clone) is
 * seeded first by hand — accounts, replication, a GTID position for the agent to compare — and
 * stopped before cluster.crm is applied, so that the agent starts every instance itself. The lab
 * and the containers target.
 */
export async function bootDaemons(lab: BootTarget & { startSshd(log: StepLog): Promise<void> }, log: StepLog): Promise<void> {
  if (!lab.profile.promotableMysql) {
    await Promise.all([bootCluster(lab, log), bootMysql(lab, log), lab.startSshd(log)]);
    return;
  }
  const seeded = bootMysql(lab, log).then(() => handMysqlToPacemaker(lab, log));
  await Promise.all([bootCluster(lab, log, seeded), seeded, lab.startSshd(log)]);
}
