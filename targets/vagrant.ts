import { defineSshTarget } from '../lib/targets/ssh/config.js';

/**
 * The operator's Vagrant cluster (see Vagrantfile): db1 10.11.22.101, db2 .102, batch1 .111.
 * `npm run chaos -- --target vagrant`. Every connection goes through batch1, as the operator's did.
 */
export default defineSshTarget({
  kind: 'ssh',
  profile: 'seed',
  user: 'vagrant',
  keyPath: '~/.vagrant.d/insecure_private_key',
  sudo: true,
  jumpHost: 'batch1',
  // The faults break the cluster (stop pacemaker, kill corosync, …). Set `disposable: true` only
  // for a cluster you can rebuild (vagrant destroy -f && vagrant up).
  disposable: false,
  // knownHosts: '~/.ssh/known_hosts',   // check host keys (recommended outside a throw-away VM set)
  // The VMs run the stack under systemd (vagrant/provision.sh sets Restart=no, as SysV init did):
  daemons: {
    corosync: { start: 'systemctl start corosync && systemctl show -p MainPID --value corosync' },
    pacemaker: { start: 'systemctl start pacemaker && systemctl show -p MainPID --value pacemaker' },
    mariadb: { start: 'systemctl start mariadb && systemctl show -p MainPID --value mariadb' },
  },
});
