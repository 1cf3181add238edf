// Use case: the seed's housekeeping of the connector's history (resman-lead-sync.md, "Data Archiving and Cleanup"):
// sync logs older than 90 days, conflicts resolved more than 30 days ago and finished queue rows older than 7 days move
// to their *_archive tables, through the seed's own functions (archive_old_sync_logs, archive_resolved_conflicts,
// cleanup_old_queue_items; each moves exactly the rows it deletes). main.ts runs it every RESMAN_ARCHIVE_INTERVAL_MS.
// One replica at a time: a transaction-scoped advisory lock, tried and never waited for (the other replica's run
// would only find the rows gone).
import type { EntityManager } from '@domiq/db';

const S = '"resman_connector"';

/** Moves what is due to the archive; false when another replica is doing it right now (nothing done here). */
export async function archiveSyncHistory(em: EntityManager): Promise<boolean> {
  if (!em.isInTransaction()) throw new Error('archiveSyncHistory must run in a transaction');
  const [lock] = await em.execute<Array<{ ok: boolean }>>(`select pg_try_advisory_xact_lock(hashtextextended('domiq:resman-connector:archive', 0)) as ok`);
  if (!lock?.ok) return false;
  await em.execute(`select ${S}.archive_old_sync_logs(), ${S}.archive_resolved_conflicts(), ${S}.cleanup_old_queue_items()`);
  return true;
}
