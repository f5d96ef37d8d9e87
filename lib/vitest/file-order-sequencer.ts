import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Test files in the order of their names (scenarios/01-… to 07-…, the notebook's rows), not
 * vitest's default of slowest-first from its cache: the order a case runs in must not depend on
 * what ran before in this checkout (`npm run chaos -- --case 5 --case 6` runs 5, then 6).
 * Except where a project runs files on several workers at once (parallel labs): there which case
 * follows which on a lab is up to timing anyway, and the order only decides how well the labs are
 * packed, so the slowest files start first, by vitest's timings of the last run; files it has no
 * timing for start before them, by name.
 */
export default class FileOrderSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const took = (s: TestSpecification) =>
      this.ctx.cache.getFileTestResults(`${s.project.name}:${relative(this.ctx.config.root, s.moduleId)}`)?.duration;
    return [...files].sort((a, b) => {
      const group = a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder;
      if (group !== 0) return group;
      if (a.project.name !== b.project.name) return a.project.name < b.project.name ? -1 : 1;
      if (runsFilesAtOnce(a)) {
        const [ta, tb] = [took(a), took(b)];
        if ((ta === undefined) !== (tb === undefined)) return ta === undefined ? -1 : 1;
        if (ta !== undefined && tb !== undefined && ta !== tb) return tb - ta;
      }
      return a.moduleId.localeCompare(b.moduleId);
    });
  }
}

// vitest resolves fileParallelism: false to one worker.
const runsFilesAtOnce = (s: TestSpecification) => s.project.config.maxWorkers > 1;
