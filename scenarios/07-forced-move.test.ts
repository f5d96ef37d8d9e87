import { clearMove, forcedMove, pacemakerStop } from '../lib/faults/index.js';
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
