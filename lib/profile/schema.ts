import { z } from 'zod';

const ipv4 = z.string().regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/, 'an IPv4 address like 10.11.22.101');
const hostName = z.string().regex(/^[a-z][a-z0-9-]{0,14}$/, 'a short lowercase host name (letters, digits, -)');

export const profileSchema = z.object({
  $comment: z.string().optional(),
  name: z.string().min(1),
  network: z.object({
    subnet: z.string().regex(/^\d+\.\d+\.\d+\.0\/24$/, 'a /24 subnet like 10.11.22.0/24'),
    interface: z.string().default('eth1'),
    domain: z.string().default('localnet'),
  }),
  hosts: z
    .record(hostName, z.object({ address: ipv4, role: z.enum(['db', 'management']) }))
    .refine((h) => Object.values(h).filter((x) => x.role === 'db').length === 2, 'exactly two hosts with role "db"')
    .refine((h) => Object.values(h).some((x) => x.role === 'management'), 'one host with role "management"'),
  mysql: z.object({
    port: z.number().int().default(3306),
    admin: z.object({ user: z.string(), password: z.string() }),
    replication: z.object({ user: z.string(), password: z.string(), primary: hostName, replica: hostName }),
  }),
  /**
   * How the db hosts' init runs the cluster's services, where the profile changes it: pacemaker
   * restarted on failure as pacemaker.service's Restart=on-failure does (the seed's notebook
   * hosts leave a killed pacemakerd dead). bootDelaySeconds: from power-on until the init starts
   * the enabled units (firmware, boot loader, kernel); the lab's power switch waits this long
   * before it boots a host it powered on, as no server is back in the instant a fence ends.
   */
  services: z
    .object({
      pacemaker: z.object({ restart: z.enum(['no', 'on-failure']).default('no') }).default({ restart: 'no' }),
      bootDelaySeconds: z.number().min(0).max(600).default(0),
    })
    .default({ pacemaker: { restart: 'no' }, bootDelaySeconds: 0 }),
});

export type ProfileConfig = z.infer<typeof profileSchema>;
