import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Test files in the order of their names (scenarios/01-… to 07-…, the notebook's rows), not
 * vitest's default of slowest-first from its cache: the order a case runs in must not depend on
 * what ran before in this checkout (`npm run chaos -- --case 5 --case 6` runs 5, then 6).
 */
export default class FileOrderSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return [...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId));
  }
}
