import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { Profile } from '../profile/load.js';
import { NetnsLab, StartedNetnsLab, allLabs, destroyLab } from '../targets/netns/lab.js';
import { DockerEngine } from '../targets/containers/engine.js';
import { readState } from '../targets/netns/state.js';
import { clusterStatus, formatStatus } from '../probes/status.js';
import { StepLog } from '../util/log.js';
import { HarnessError } from '../util/errors.js';
import { runMain } from './main.js';
import { redact } from '../util/redact.js';

const USAGE = `usage: npm run lab -- <up|down|status|exec|shell> [options]
  up       bring the lab up (cleans a stale lab of the same name first)
  down     tear it down (--all: every lab and Docker engine of the harness on this machine)
  status   nodes, DC, VIP holders, failed actions, constraints, replication (--json)
  exec     run a command on a host:  npm run lab -- exec db1 -- crm_mon -1
  shell    an interactive shell on a host:  npm run lab -- shell db1
options: --profile NAME|PATH (seed)  --name NAME (lab)  --subnet A.B.C.0/24 (the profile's)
         --faithful-timings (keep Pacemaker's 20 s dc-deadtime at start)  --json  --all`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      profile: { type: 'string', default: process.env.MHC_PROFILE ?? 'seed' },
      name: { type: 'string', default: process.env.MHC_LAB ?? 'lab' },
      subnet: { type: 'string', default: process.env.MHC_SUBNET },
      'faithful-timings': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [cmd, ...rest] = positionals;
  if (values.help || !cmd) {
    console.log(USAGE);
    return cmd ? 0 : 2;
  }
  const log = new StepLog();
  const profile = () => Profile.load(values.profile);
  switch (cmd) {
    case 'up': {
      let b = new NetnsLab(profile()).withName(values.name).withLog(log).withFaithfulTimings(values['faithful-timings']);
      if (values.subnet) b = b.withSubnet(values.subnet);
      const lab = await b.start();
      console.log(formatStatus(await clusterStatus(lab)));
      return 0;
    }
    case 'down': {
      const names = values.all ? allLabs() : [values.name];
      for (const n of names) {
        const t = Date.now();
        await destroyLab(n, log);
        log.info(`lab "${n}" is down in ${((Date.now() - t) / 1000).toFixed(1)} s; nothing left`);
      }
      // --all also stops the containers target's Docker engines (their containers go with them).
      if (values.all) {
        for (const e of DockerEngine.all()) {
          await new DockerEngine(e).stop();
          log.info(`Docker engine "${e}" is stopped; nothing left`);
        }
      }
      return 0;
    }
    case 'status': {
      const s = readState(values.name);
      const lab = StartedNetnsLab.attach(values.name, Profile.load(s?.profileDir ?? values.profile));
      const st = await clusterStatus(lab);
      console.log(values.json ? JSON.stringify(st, null, 2) : formatStatus(st));
      return 0;
    }
    case 'exec': {
      const [host, ...command] = rest;
      if (!host || !command.length) throw new HarnessError('exec needs a host and a command', 'npm run lab -- exec db1 -- crm_mon -1');
      const s = readState(values.name);
      const lab = StartedNetnsLab.attach(values.name, Profile.load(s?.profileDir ?? values.profile));
      const r = await lab.exec(host, command, { check: false, timeoutMs: 600_000 });
      process.stdout.write(redact(r.stdout));
      process.stderr.write(redact(r.stderr));
      return r.exitCode;
    }
    case 'shell': {
      const [host = 'db1'] = rest;
      const s = readState(values.name);
      const lab = StartedNetnsLab.attach(values.name, Profile.load(s?.profileDir ?? values.profile));
      const r = spawnSync('nsenter', [...lab.nsenterArgs(host), '--', 'bash', '-l'], { stdio: 'inherit' });
      return r.status ?? 1;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

runMain(() => main(process.argv.slice(2)));
