import { degradedNetwork } from '../../lib/faults/degraded-network.js';
import { scenario } from '../../lib/scenario.js';

// Beyond the notebook (issue 12), after Jepsen's :packet nemesis: eth1 of the VIP holder degraded
// for 20 s, at a level corosync should ride out and one that should break its membership. With
// the seed's defaults (token 3000 ms) knet pings every 750 ms and declares a link dead after
// 1500 ms without a pong (corosync.conf(5): token / (2 × knet_pong_count), token / knet_pong_count).

// Loss of incoming packets (iptables' statistic match): 2 % leaves two pongs in a row lost rarely;
// 60 % loses them in most 1.5 s windows.
scenario({
  id: '9-loss-light',
  title: 'packet loss 2 % on the VIP holder for 20 s',
  acts: ({ holder }) => [{ id: '9-loss-2pct', fault: degradedNetwork(holder, { lossPercent: 2 }, 20) }],
});

scenario({
  id: '9-loss-heavy',
  title: 'packet loss 60 % on the VIP holder for 20 s',
  acts: ({ holder }) => [{ id: '9-loss-60pct', fault: degradedNetwork(holder, { lossPercent: 60 }, 20) }],
});

// Delay of outgoing packets (tc netem on a kernel with sch_netem; elsewhere the NFQUEUE delayer,
// lib/faults/queue-delay.ts): 100 ± 20 ms is far below knet's ping timeout, 2000 ms above it.
scenario({
  id: '9-delay-light',
  title: 'delay 100 ± 20 ms on the VIP holder for 20 s',
  acts: ({ holder }) => [{ id: '9-delay-100ms', fault: degradedNetwork(holder, { delayMs: 100, jitterMs: 20 }, 20) }],
});

scenario({
  id: '9-delay-heavy',
  title: 'delay 2000 ms on the VIP holder for 20 s',
  acts: ({ holder }) => [{ id: '9-delay-2000ms', fault: degradedNetwork(holder, { delayMs: 2000 }, 20) }],
});
