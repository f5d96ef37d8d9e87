import { defineSshTarget } from '../lib/targets/ssh/config.js';
import vagrant from './vagrant.js';

/**
 * The Vagrant cluster provisioned from profiles/hardened-ipmi (`MHC_PROFILE=hardened-ipmi vagrant up`,
 * with VirtualBMC on the hypervisor: README, the hardened profile on VMs).
 * `npm run chaos -- --target vagrant-hardened-ipmi --strict` (after setting disposable: true in targets/vagrant.ts).
 */
export default defineSshTarget({
  ...vagrant,
  profile: 'hardened-ipmi',
  // The stack as provision.sh leaves it for this profile (enabled at boot; pacemaker Restart=on-failure),
  // with the quorum device's client, which ends with corosync and is started again after it.
  daemons: {
    ...vagrant.daemons,
    qdevice: { start: 'systemctl start corosync-qdevice && systemctl show -p MainPID --value corosync-qdevice' },
    qnetd: { start: 'systemctl start corosync-qnetd && systemctl show -p MainPID --value corosync-qnetd' },
  },
});
