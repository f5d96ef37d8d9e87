import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseControllerState, parseDc } from '../../lib/probes/controller.js';

const lab = (f: string) => readFileSync(join(import.meta.dirname, '../../fixtures/lab', f), 'utf8');

describe('crmadmin XML (the first two captured on the hardened lab during case 4)', () => {
  it('the DC by name', () => {
    expect(parseDc(lab('crmadmin-dc.xml'))).toBe('db2');
  });

  it('a DC running a transition is not idle', () => {
    expect(parseControllerState(lab('crmadmin-status.transition.xml'))).toBe('S_TRANSITION_ENGINE');
  });

  it('an answer without a dc element (written here: a controller not connected) is no DC', () => {
    expect(
      parseDc(
        '<pacemaker-result api-version="2.25" request="crmadmin -D --output-as=xml"><status code="102" message="Not connected"/></pacemaker-result>',
      ),
    ).toBeUndefined();
  });
});
