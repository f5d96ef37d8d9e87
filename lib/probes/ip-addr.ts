// biome-ignore-all lint/suspicious/noExplicitAny: `ip -j` JSON is parsed untyped and mapped field by field into typed views here
/** Addresses on an interface from `ip -j addr show`. */
export interface IfAddr {
  ifname: string;
  up: boolean;
  addrs: { family: 'inet' | 'inet6'; local: string; prefixlen: number }[];
}

export function parseIpJsonAddr(text: string): IfAddr[] {
  const arr = JSON.parse(text) as any[];
  return arr.map((i) => ({
    ifname: i.ifname,
    up: (i.flags ?? []).includes('UP') && i.operstate !== 'DOWN',
    addrs: (i.addr_info ?? []).map((a: any) => ({ family: a.family, local: a.local, prefixlen: a.prefixlen })),
  }));
}

export const hasAddress = (ifs: IfAddr[], ip: string, ifname?: string) =>
  ifs.some((i) => (!ifname || i.ifname === ifname) && i.addrs.some((a) => a.local === ip));
