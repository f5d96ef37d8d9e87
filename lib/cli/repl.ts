import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Profile } from '../profile/load.js';
import { StartedNetnsLab } from '../targets/netns/lab.js';
import { readState } from '../targets/netns/state.js';
import { backup, restore } from '../replication/backup.js';
import { checkPair, formatCheck } from '../replication/check.js';
import { failover, monitor } from '../replication/failover.js';
import { formatHealth, replicationHealth } from '../replication/health.js';
import { other } from '../replication/server.js';
import { setupReplication } from '../replication/setup.js';
import { showTopology } from '../replication/show.js';
import { switchover } from '../replication/switchover.js';
import { HarnessError } from '../util/errors.js';
import { runMain } from './main.js';
import { redact } from '../util/redact.js';

const USAGE = `usage: npm run repl -- <command> [options]   (the mysql-utilities' jobs, run from the management host)
  setup       mysqlreplicate: --primary db1 --replica db2 (the profile's by default)
  health      mysqlrpladmin health: exit 1 unless exactly one host replicates from the other, all in order
  show        mysqlrplshow: the topology
  check       mysqlrplcheck: --primary A --replica B (today's roles by default)
  switchover  mysqlrpladmin switchover --demote-master: [--to HOST] [--timeout S (catch-up bound, 10)]
  failover    mysqlfailover --force: promote the replica if the primary is down;
              --watch S: monitor for S seconds (every --interval MS, after --fail-after N misses)
  backup      mysqldump of --host (the primary) into the lab's backups/ directory
  restore     --file PATH [--host HOST (the replica)]: load it and rebuild replication from the other host
options: --lab NAME (lab)  --profile NAME|PATH (the lab's)  --json`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      lab: { type: 'string', default: process.env.MHC_LAB ?? 'lab' },
      profile: { type: 'string', default: process.env.MHC_PROFILE },
      primary: { type: 'string' },
      replica: { type: 'string' },
      to: { type: 'string' },
      host: { type: 'string' },
      file: { type: 'string' },
      timeout: { type: 'string', default: '10' },
      watch: { type: 'string' },
      interval: { type: 'string', default: '1000' },
      'fail-after': { type: 'string', default: '3' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [cmd] = positionals;
  if (values.help || !cmd) {
    console.log(USAGE);
    return cmd ? 0 : 2;
  }
  const s = readState(values.lab);
  const lab = StartedNetnsLab.attach(values.lab, Profile.load(values.profile ?? s?.profileDir ?? 'seed'));
  const out = (v: unknown, text: string) =>
    console.log(values.json ? JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x), 2) : text);
  const num = (name: string, v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new HarnessError(`--${name} must be a positive number, not "${v}"`);
    return n;
  };
  const roles = async () => {
    if (values.primary || values.replica) {
      const p = values.primary ?? other(lab, values.replica!);
      return { primary: p, replica: values.replica ?? other(lab, p) };
    }
    const h = await replicationHealth(lab);
    const primary = h.primary ?? lab.profile.config.mysql.replication.primary;
    return { primary, replica: h.replica ?? other(lab, primary) };
  };

  switch (cmd) {
    case 'setup': {
      const primary = values.primary ?? lab.profile.config.mysql.replication.primary;
      const replica = values.replica ?? other(lab, primary);
      await setupReplication(lab, primary, replica);
      out({ primary, replica }, `replication ${primary} → ${replica} is running`);
      return 0;
    }
    case 'health': {
      const h = await replicationHealth(lab);
      out({ healthy: h.healthy, primary: h.primary, replica: h.replica, lagSeconds: h.lagSeconds, problems: h.problems }, formatHealth(h));
      return h.healthy ? 0 : 1;
    }
    case 'show': {
      const { topology, text } = await showTopology(lab);
      out(topology, text);
      return 0;
    }
    case 'check': {
      const { primary, replica } = await roles();
      const c = await checkPair(lab, primary, replica);
      out(c, formatCheck(c));
      return c.ok ? 0 : 1;
    }
    case 'switchover': {
      const r = await switchover(lab, { newPrimary: values.to, catchUpTimeoutMs: num('timeout', values.timeout) * 1000 });
      out(
        r,
        `switched over in ${(r.ms / 1000).toFixed(1)} s: ${r.newPrimary} is the primary, ${r.oldPrimary} its read_only replica (at ${r.gtid})`,
      );
      return 0;
    }
    case 'failover': {
      if (values.watch) {
        const r = await monitor(lab, {
          durationMs: num('watch', values.watch) * 1000,
          intervalMs: num('interval', values.interval),
          failAfter: num('fail-after', values['fail-after']),
          onEvent: (l) => console.error(redact(l)),
        });
        out(
          r,
          r.failover
            ? `failed over: ${r.failover.promoted} is the primary (${r.failover.failed}: ${r.failover.reason})`
            : `no failover needed (${r.checks} checks)`,
        );
        return 0;
      }
      const r = await failover(lab, { drainTimeoutMs: num('timeout', values.timeout) * 1000 });
      out(r, `failed over: ${r.promoted} is the primary at ${r.gtid} (${r.failed}: ${r.reason})`);
      return 0;
    }
    case 'backup': {
      const host = values.host ?? (await roles()).primary;
      const r = await backup(lab, host, join(lab.dir, 'backups'));
      out(r, `backup of ${host}: ${r.file} (${(r.bytes / 1024).toFixed(0)} KiB, at ${r.gtid}) in ${(r.ms / 1000).toFixed(1)} s`);
      return 0;
    }
    case 'restore': {
      if (!values.file) throw new HarnessError('restore needs --file PATH (a backup taken with: npm run repl -- backup)');
      const host = values.host ?? (await roles()).replica;
      const r = await restore(lab, host, values.file);
      out(r, `restored ${r.file} onto ${host} (at ${r.gtid}); it replicates from ${r.source} again, in ${(r.ms / 1000).toFixed(1)} s`);
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

runMain(() => main(process.argv.slice(2)));
