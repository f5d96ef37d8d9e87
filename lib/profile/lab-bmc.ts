import { HarnessError } from '../util/errors.js';
import { crmStonithDevices } from './crm.js';

/**
 * A fence device of cluster.crm that fences through the lab's BMCs (lib/fencing/lab-bmc.py):
 * fence-agents' fence_ipmilan aimed at the subnet's .1, where a VM network has its hypervisor
 * (VirtualBox's host-only and libvirt's networks give the host .1). The lab plays that host.
 */
export interface LabBmcDevice {
  id: string;
  /** The one host the device fences (pcmk_host_list), which its BMC powers. */
  plug: string;
  address: string;
  port: number;
  login: string;
  password: string;
  line: number;
}

/** The lab's BMC address on a profile's subnet: the .1 of the /24. */
export const labBmcAddress = (subnet: string) => `${subnet.split('.').slice(0, 3).join('.')}.1`;

/** A fence_ipmilan device of cluster.crm: the BMC it asks (ip:ipport) and the hosts it fences. */
export interface IpmiFenceDevice {
  id: string;
  ip: string;
  port: number;
  /** pcmk_host_list. */
  hosts: string[];
  params: Record<string, string>;
  line: number;
}

/** Every fence_ipmilan device of cluster.crm (fence-agents' names: ip or ipaddr, ipport 623 by default). */
export function ipmiFenceDevices(crm: string): IpmiFenceDevice[] {
  return crmStonithDevices(crm)
    .filter((d) => d.agent === 'stonith:fence_ipmilan')
    .map((d) => ({
      id: d.id,
      ip: d.params.ip ?? d.params.ipaddr ?? '',
      port: Number(d.params.ipport ?? 623),
      hosts: (d.params.pcmk_host_list ?? '').split(/[\s,]+/).filter(Boolean),
      params: d.params,
      line: d.line,
    }));
}

/** fence_ipmilan devices aimed at the lab's BMC address, each with the one host, port and account its BMC serves. */
export function labBmcDevices(crm: string, subnet: string): LabBmcDevice[] {
  const address = labBmcAddress(subnet);
  return ipmiFenceDevices(crm)
    .filter((d) => d.ip === address)
    .map((d) => {
      const login = d.params.username ?? d.params.login;
      const password = d.params.password ?? d.params.passwd;
      const fix = `give it pcmk_host_list=<one db host>, username= and password= (see profiles/hardened-ipmi/cluster.crm)`;
      if (d.hosts.length !== 1)
        throw new HarnessError(`cluster.crm line ${d.line}: ${d.id} must fence exactly one host through the lab's BMC`, fix);
      if (!login || !password) throw new HarnessError(`cluster.crm line ${d.line}: ${d.id} has no username= or password=`, fix);
      return { id: d.id, plug: d.hosts[0]!, address, port: d.port, login, password, line: d.line };
    });
}
