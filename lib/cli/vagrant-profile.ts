import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Profile } from '../profile/load.js';
import { renderForVagrant } from '../profile/render-vagrant.js';
import { HarnessError } from '../util/errors.js';
import { runMain } from './main.js';

const USAGE = `usage: npm run vagrant:profile -- PROFILE [OUT]
  Writes PROFILE (a name under profiles/ or a directory; a variant merged over its base) as one
  directory for vagrant/provision.sh, with provision.json saying what to install and start
  (default OUT: vagrant/.profile). The Vagrantfile runs this before it defines the VMs.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length < 1 || positionals.length > 2) throw new HarnessError('npm run vagrant:profile needs a profile', USAGE);
  const out = resolve(positionals[1] ?? 'vagrant/.profile');
  const plan = renderForVagrant(Profile.load(positionals[0]), out);
  process.stdout.write(`${out}: profile ${plan.profile} for vagrant/provision.sh\n`);
  return 0;
}

runMain(() => main(process.argv.slice(2)));
