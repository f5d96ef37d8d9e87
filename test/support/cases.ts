import { pacemakerStop } from '../../lib/faults/index.js';
import type { CaseDefinition } from '../../lib/run-case.js';

/** The case of scenarios/02-pacemaker-stop.test.ts ("2-stop"), as defined there, for tests that run one case on a lab of their own. */
export const CASE_2_STOP: CaseDefinition = {
  id: '2-stop',
  title: 'pacemaker stop on the VIP holder',
  acts: ({ holder }) => [{ id: '2-pacemaker-stop', fault: pacemakerStop(holder) }],
};
