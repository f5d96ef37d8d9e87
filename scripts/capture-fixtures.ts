/**
 * Captures real outputs from a running lab into fixtures/, for the parser unit tests.
 * usage: npm run lab -- up && npx tsx scripts/capture-fixtures.ts [--name lab]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Profile } from '../lib/profile/load.js';
import { StartedNetnsLab } from '../lib/targets/netns/lab.js';
import { readState } from '../lib/targets/netns/state.js';
import { connectMysql, query } from '../lib/mysql/connect.js';
import { redact } from '../lib/util/redact.js';
import { waitFor } from '../lib/util/wait.js';
import { vipHolders } from '../lib/probes/cluster.js';

const { values } = parseArgs({ options: { name: { type: 'string', default: 'lab' } } });
const s = readState(values.name!);
const lab = StartedNetnsLab.attach(values.name!, Profile.load(s?.profileDir ?? 'seed'));
const dir = join(import.meta.dirname, '../fixtures/lab');
mkdirSync(dir, { recursive: true });
const save = (f: string, text: string) => writeFileSync(join(dir, f), redact(text));
const out = async (host: string, argv: string[]) => (await lab.exec(host, argv, { check: false })).stdout;
const crmMon = ['crm_mon', '--one-shot', '--inactive', '--include=bans', '--output-as=xml'];

save('crm_mon.healthy.xml', await out('db1', crmMon));
save('ip-addr.db1.json', await out('db1', ['ip', '-j', 'addr', 'show']));
save('ip-addr.db2.json', await out('db2', ['ip', '-j', 'addr', 'show']));
save('ps.db1.txt', await out('db1', ['ps', '-e', '-o', 'pid=,ppid=,comm=']));
save('corosync-cmapctl.members.txt', await out('db1', ['corosync-cmapctl', '-b', 'runtime.members']));
for (const h of ['db1', 'db2']) {
  const c = await connectMysql(lab, h);
  save(`show-slave-status.${h}.json`, JSON.stringify(await query(c, 'SHOW SLAVE STATUS'), null, 2));
  await c.end();
}
// A forced move leaves a cli-prefer constraint; a ban leaves cli-ban.
await lab.exec('db1', ['crm', 'resource', 'move', 'vip', 'db2', 'force']);
await waitFor('VIP on db2 after move', async () => (await vipHolders(lab)).join() === 'db2', { timeoutMs: 20_000 });
save('cibadmin-constraints.moved.xml', await out('db1', ['cibadmin', '--query', '--scope', 'constraints']));
save('crm_mon.moved.xml', await out('db1', crmMon));
await lab.exec('db1', ['crm', 'resource', 'clear', 'vip']);
await lab.exec('db1', ['crm', 'resource', 'ban', 'vip', 'db1']);
save('crm_mon.banned.xml', await out('db1', crmMon));
save('cibadmin-constraints.banned.xml', await out('db1', ['cibadmin', '--query', '--scope', 'constraints']));
await lab.exec('db1', ['crm', 'resource', 'clear', 'vip']);
// A failed action. The seed's VIP has no monitor op (as in the notebook), so a failure is reported
// to the cluster the way a monitor would: crm_resource --fail.
const holder = (await vipHolders(lab))[0]!;
await lab.exec('db1', ['crm_resource', '--fail', '--resource', 'vip', '--node', holder]);
await waitFor('a failed action in crm_mon', async () => (await out('db1', crmMon)).includes('<failure '), { timeoutMs: 30_000 });
save('crm_mon.failed-action.xml', await out('db1', crmMon));
await lab.exec('db1', ['crm_resource', '--cleanup', '--resource', 'vip']);
// Pacemaker stopped on one node: the other's view.
console.log('captured into', dir);
