import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Test files in the order of their names (scenarios/01-… to 07-…, the notebook's rows), not
 * vitest's default of slowest-first from its cache: the order a case runs in must not depend on
 * what ran before in this checkout (`npm run chaos -- --case 5 --case 6` runs 5, then 6).
 * Except where a project runs files on several workers at once (parallel labs): there which case
 * follows which on a lab is up to timing anyway, and the order only decides how well the labs are
 * packed, so the slowest files start first (vitest's cache; name order where it knows none).
 */
export default class FileOrderSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const byName = [...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId));
    const slowestFirst = await super.sort(byName);
    return slowestFirst.sort((a, b) => {
      const group = a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder;
      if (group !== 0) return group;
      if (a.project.name !== b.project.name) return a.project.name < b.project.name ? -1 : 1;
      return runsFilesAtOnce(a) ? 0 : a.moduleId.localeCompare(b.moduleId);
    });
  }
}

// vitest resolves fileParallelism: false to one worker.
const runsFilesAtOnce = (s: TestSpecification) => s.project.config.maxWorkers > 1;
