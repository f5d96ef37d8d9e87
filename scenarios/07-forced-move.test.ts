import { clearMove, forcedMove, pacemakerStop, promotionSwitch, withoutPromotionScores } from '../lib/faults/index.js';
import { scenario } from '../lib/scenario.js';

// Notebook row 7: `crm resource move vip db2 force`; then the new holder fails while the move's
// constraint is still in place; then `crm resource clear vip` (the notebook's unmove).
scenario({
  id: '7',
  title: 'forced move, a failure of the new holder while pinned, then clear',
  acts: ({ holder, other, target }) => [
    { id: '7-forced-move', fault: forcedMove(target.profile.vip.id, other, holder) },
    { id: '7-new-holder-fails-while-pinned', fault: pacemakerStop(other) },
    { id: '7-clear', fault: clearMove(target.profile.vip.id, holder) },
  ],
});

// What the expectations advise instead where Pacemaker runs MariaDB (the forced move is the
// operator's hazard there): a switchover by the agent's promotion scores, then the new primary
// fails, to show that nothing is left pinned and failover still works.
scenario({
  id: '7-instead',
  title: 'the switchover to run instead: promotion scores swapped, then the new primary fails',
  notFor: withoutPromotionScores,
  acts: ({ holder, other }) => [
    { id: '7-switchover-instead', fault: promotionSwitch(other, holder) },
    { id: '7-new-primary-fails', fault: pacemakerStop(other) },
  ],
});
