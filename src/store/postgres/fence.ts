import { type Fence, NotLeaderError } from '../fencing.js';
import type { Db } from './db.js';

/**
 * Inside the transaction of a leader-only write, before it changes anything: throws
 * NotLeaderError unless this node holds the lease with its token, unexpired by the database's
 * clock. FOR SHARE keeps the lease row as it is until the transaction ends, so the lease cannot
 * change hands between this check and the commit. Returns the token checked.
 */
export async function checkFence(db: Db, fence: Fence): Promise<number> {
  const token = fence.token();
  if (token === undefined) throw new NotLeaderError(fence.node, undefined);
  const { rowCount } = await db.query(
    `SELECT token FROM hbd_lease
     WHERE id = 1 AND holder = $1 AND token = $2 AND expires_at > now()
     FOR SHARE`,
    [fence.node, token],
  );
  if (!rowCount) throw new NotLeaderError(fence.node, token);
  return token;
}
