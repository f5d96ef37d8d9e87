import { Status } from 'allure-js-commons';
import type { Category } from 'allure-js-commons/sdk';
import { HAZARD, INCONCLUSIVE } from '../checks/case-checks.js';

/**
 * Honest statuses in Allure: only pass is green (see lib/checks/case-checks.ts).
 *
 * Live, a hazard case passes its vitest test (unless strict), and allure-vitest writes "passed" for
 * every passing test, after the test's own runtime messages — a test cannot set its own status.
 * The reporter's lifecycle listener can: vitest.config.ts gives it `honestStatus`, which runs on
 * each result just before it is written. The test hands it the status message in a label
 * (STATUS_LABEL, set by lib/report/allure-case.ts), which the listener removes again.
 */

/** Allure categories, first match wins; used for categories.json and Allure 3's config. */
export const CATEGORIES: Category[] = [
  { name: 'Hazard (known dangerous state)', matchedStatuses: [Status.BROKEN], messageRegex: `^${HAZARD}[\\s\\S]*` },
  { name: 'Inconclusive (not enough evidence)', matchedStatuses: [Status.BROKEN], messageRegex: `^${INCONCLUSIVE}[\\s\\S]*` },
  { name: 'Regression / differs from expectation', matchedStatuses: [Status.FAILED] },
];

/** The label that carries a case's status message from the test to the reporter's listener. */
export const STATUS_LABEL = 'mhc-status-message';

interface ResultLike {
  status?: string;
  statusDetails?: { message?: string; trace?: string };
  labels: { name: string; value?: string }[];
}

/**
 * Makes a scenario case's result say what its verdicts say: a passed case with a hazard or an
 * inconclusive act becomes broken with the prefixed message; a failure whose message has the
 * prefix (strict mode's hazards, inconclusive acts) is broken too. Results of other tests (no
 * "verdict" label) are left alone.
 */
export function honestStatus(r: ResultLike): void {
  const verdict = r.labels.find((l) => l.name === 'verdict')?.value;
  const carried = r.labels.find((l) => l.name === STATUS_LABEL)?.value;
  r.labels = r.labels.filter((l) => l.name !== STATUS_LABEL);
  if (!verdict) return;
  const message = r.statusDetails?.message ?? '';
  if (message.startsWith(HAZARD) || message.startsWith(INCONCLUSIVE)) {
    r.status = 'broken';
  } else if (r.status === 'passed' && (verdict === 'hazard' || verdict === 'inconclusive')) {
    r.status = 'broken';
    // Results written before the label existed say only the verdict; the acts' parameters say more.
    const fallback = `${verdict === 'hazard' ? HAZARD : INCONCLUSIVE} the case's worst verdict is ${verdict} (see the acts' parameters)`;
    r.statusDetails = { ...r.statusDetails, message: carried ?? fallback };
  }
}
