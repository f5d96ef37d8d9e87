import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DockerEngine } from './containers/engine.js';
import { liveLabs } from './netns/state.js';

/**
 * The labs and container clusters running on this machine (contention for its cores: shown with
 * each run). A container cluster counts while its engine runs and holds the cluster's state.
 */
export function liveClusters(): string[] {
  const containers = DockerEngine.all().filter((name) => {
    try {
      const e = new DockerEngine(name);
      return !!e.pid && existsSync(join(e.runDir, 'cluster.json'));
    } catch {
      return false; // no docker here: no engine of ours runs
    }
  });
  return [...liveLabs(), ...containers.map((n) => `containers ${n}`)];
}
