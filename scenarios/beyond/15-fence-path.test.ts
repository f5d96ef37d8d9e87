import { corosyncKill } from '../../lib/faults/index.js';
import { bootBroken, fencePathBroken, switchHung, switchUnreachable, withoutFencePath } from '../../lib/faults/fence-path.js';
import { scenario } from '../../lib/scenario.js';

// Beyond the notebook (issue 13): the fence path's own faults, where the profile fences through
// the lab's power switch (fence_mhc) or through BMCs (fence_ipmilan). Each breaks the path, then loses the VIP holder the way case 6 does
// (kill -9 corosync), so that Pacemaker must fence it; undo repairs the path and lets Pacemaker
// finish (a cleanup, the fencing, the host's boot).

// The switch unreachable: every fencing fails at once. Pacemaker must not promote the survivor.
scenario({
  id: '15-unreachable',
  title: 'the power switch out of reach, then kill -9 corosync on the VIP holder',
  notFor: withoutFencePath,
  acts: ({ target, holder }) => [
    { id: '15-fence-switch-unreachable', fault: fencePathBroken(switchUnreachable(target.profile), corosyncKill(holder)) },
  ],
});

// The switch hung: the fence agent waits out its power_timeout on every try, then fails.
scenario({
  id: '15-hung',
  title: 'the power switch hung, then kill -9 corosync on the VIP holder',
  notFor: withoutFencePath,
  acts: ({ target, holder }) => [{ id: '15-fence-switch-hung', fault: fencePathBroken(switchHung(target.profile), corosyncKill(holder)) }],
});

// The fencing succeeds, the host does not come back: the survivor must serve alone.
scenario({
  id: '15-not-back',
  title: 'kill -9 corosync on the VIP holder, whose boot then fails after it is fenced',
  notFor: withoutFencePath,
  acts: ({ holder }) => [{ id: '15-fenced-host-not-back', fault: fencePathBroken(bootBroken(holder), corosyncKill(holder)) }],
});
