import { corosyncStop, killPacemakerd, restartStackKeepingVip } from '../lib/faults/index.js';
import { scenario } from '../lib/scenario.js';

// Notebook row 3's warnings for the state `kill -9 pacemakerd` leaves: stopping corosync by
// mistake puts the VIP on both nodes; starting corosync and pacemaker again then makes the VIP
// fail back.
scenario({
  id: '3-follow-on',
  title: 'kill -9 pacemakerd, then corosync stop, then corosync and pacemaker started again',
  acts: ({ holder }) => [
    { id: '3-kill-pacemakerd', fault: killPacemakerd(holder) },
    { id: '3-then-corosync-stop', fault: corosyncStop(holder) },
    { id: '3-then-restart-without-removing-vip', fault: restartStackKeepingVip(holder) },
  ],
});
