import { Profile } from '../../profile/load.js';
import { StepLog } from '../../util/log.js';
import { ContainersCluster, StartedContainersCluster } from '../containers/cluster.js';
import { dockerBinaries } from '../containers/engine.js';
import type { TargetProvider } from '../provider.js';

/** containers: db1, db2 and batch1 as containers in a Docker engine of the run's own. */
export const containersProvider: TargetProvider = {
  kind: 'containers',
  serves: (target) => target === 'containers',

  async preflight() {
    dockerBinaries(); // no Docker engine: say so before anything starts
  },

  async setUpSuite(c, log) {
    log(`bringing up containers "${c.lab.name}" for the scenarios`);
    let b = new ContainersCluster(Profile.load(c.profile))
      .withName(c.lab.name)
      .withLog(new StepLog())
      .withFaithfulTimings(c.lab.faithfulTimings);
    if (c.lab.subnet) b = b.withSubnet(c.lab.subnet);
    const cluster = await b.start();
    return {
      context: { labName: c.lab.name },
      async teardown() {
        await cluster.stop();
        log(`containers "${cluster.name}" is down`);
      },
    };
  },

  async suiteTarget(c, s) {
    return StartedContainersCluster.attach(s.labName, Profile.load(c.profile));
  },

  async clusterToRepair() {
    return undefined; // the run's own cluster: its teardown removes it
  },
};
