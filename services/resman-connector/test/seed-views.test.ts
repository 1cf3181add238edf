// The seeds' monitoring views, archive functions and CHECK constraints (Migration20261122204606_seed_views and
// the entities), against the schema the real connector process migrated. Rows go straight into the tables.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEventually, startTestStack, type TestStack } from '@domiq/testkit';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ services: ['resman-connector'] });
});
afterAll(async () => stack?.stop());

/** A timestamp `interval` before the database's now(). */
class Ago {
  readonly interval: string;
  constructor(interval: string) { this.interval = interval; }
}
const ago = (interval: string) => new Ago(interval);

async function insert(table: string, row: Record<string, unknown>): Promise<string> {
  const cols: string[] = [];
  const exprs: string[] = [];
  const params: unknown[] = [];
  for (const [col, value] of Object.entries(row)) {
    cols.push(col);
    params.push(value instanceof Ago ? value.interval : value);
    exprs.push(value instanceof Ago ? `now() - $${params.length}::interval` : `$${params.length}`);
  }
  const rows = await stack.db.query<{ id: string }>(
    `insert into resman_connector.${table} (${cols.join(', ')}) values (${exprs.join(', ')}) returning id`, params);
  return rows[0]!.id;
}

/** A view's rows for one tenant, numeric columns (bigint / numeric come back as strings) as numbers. */
async function view(name: string, accountId: string, orderBy: string): Promise<Array<Record<string, any>>> {
  const rows = await stack.db.query(`select * from resman_connector.${name} where account_id = $1 order by ${orderBy}`, [accountId]);
  return rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v])));
}

const count = async (table: string, where: string, params: unknown[]): Promise<number> =>
  (await stack.db.query<{ n: number }>(`select count(*)::int as n from resman_connector.${table} where ${where}`, params))[0]!.n;

const A = randomUUID();
const B = randomUUID();
const C = randomUUID(); // an account with an integration and nothing else
const pA1 = randomUUID();
const pA2 = randomUUID();
const pB = randomUUID();
const pC = randomUUID();

const integration = (accountId: string, propertyId: string, over: Record<string, unknown> = {}) => insert('resman_integration', {
  account_id: accountId, property_id: propertyId, resman_property_id: `rp-${propertyId.slice(0, 8)}`, api_credentials: 'sealed',
  base_url: 'https://api.example.test', resman_account_id: 400, default_agent_id: 'agent-1', prospect_source_id: 'src-1', ...over,
});
const syncLog = (accountId: string, propertyId: string, syncStatus: string, createdAt: Ago, over: Record<string, unknown> = {}) => insert('lead_sync_log', {
  account_id: accountId, property_id: propertyId, sync_direction: 'to_resman', sync_type: 'create', sync_status: syncStatus, created_at: createdAt, ...over,
});
const queueItem = (accountId: string, propertyId: string, status: string, createdAt: Ago, over: Record<string, unknown> = {}) => insert('lead_sync_queue', {
  account_id: accountId, property_id: propertyId, sync_operation: 'push', sync_data: { v: 1 }, priority: 2, status, created_at: createdAt, ...over,
});
const conflict = (accountId: string, propertyId: string, resolutionStatus: string, createdAt: Ago, over: Record<string, unknown> = {}) => insert('lead_sync_conflicts', {
  account_id: accountId, property_id: propertyId, conflict_type: 'data_conflict', conflict_severity: 'high', resolution_status: resolutionStatus,
  created_at: createdAt, ...over,
});
const communication = (accountId: string, type: string, syncStatus: string, createdAt: Ago) => insert('communication_log_sync', {
  account_id: accountId, property_id: accountId === A ? pA1 : pB, customer_id: randomUUID(), message_id: randomUUID(),
  communication_type: type, sync_direction: 'to_resman', sync_status: syncStatus, created_at: createdAt,
});
const flag = (accountId: string, type: string, severity: string, resolved: boolean, createdAt: Ago) => insert('communication_compliance_flags', {
  account_id: accountId, flag_type: type, flag_severity: severity, is_resolved: resolved, created_at: createdAt,
});
const contact = (accountId: string, propertyId: string, syncStatus: string) => insert('contact_sync', {
  account_id: accountId, property_id: propertyId, customer_id: randomUUID(), sync_status: syncStatus,
  resman_contact_id: syncStatus === 'success' ? `person-${randomUUID().slice(0, 8)}` : null,
});
const statusLog = (accountId: string, propertyId: string, syncStatus: string) => insert('status_sync_log', {
  account_id: accountId, property_id: propertyId, old_status: 'new', new_status: 'touring', updated_by: 'chatbot', sync_direction: 'to_resman',
  sync_status: syncStatus,
});

describe('monitoring views', () => {
  it('sync_success_rates: last 24 hours per property, direction and type, per tenant', async () => {
    await syncLog(A, pA1, 'success', ago('10 minutes'), { processing_time_ms: 100 });
    await syncLog(A, pA1, 'success', ago('20 minutes'), { processing_time_ms: 200 });
    await syncLog(A, pA1, 'failed', ago('5 minutes'), { processing_time_ms: 300 });
    await syncLog(A, pA1, 'success', ago('2 days'), { processing_time_ms: 999 }); // outside the window
    await syncLog(A, pA2, 'success', ago('1 hour'), { sync_type: 'update', processing_time_ms: 50 });
    await syncLog(B, pB, 'success', ago('1 hour'), { processing_time_ms: 40 });
    await syncLog(B, pB, 'failed', ago('2 hours'), { processing_time_ms: 60 });

    const a = await view('sync_success_rates', A, 'property_id, sync_type');
    expect(a).toHaveLength(2);
    expect(a.map((r) => r.property_id).sort()).toEqual([pA1, pA2].sort());
    const a1 = a.find((r) => r.property_id === pA1)!;
    expect(a1).toMatchObject({ account_id: A, sync_direction: 'to_resman', sync_type: 'create', total_operations: 3, successful_operations: 2, success_rate: 66.67, avg_processing_time: 200 });
    expect(a.find((r) => r.property_id === pA2)).toMatchObject({ sync_type: 'update', total_operations: 1, success_rate: 100 });

    const b = await view('sync_success_rates', B, 'property_id');
    expect(b).toEqual([expect.objectContaining({ account_id: B, property_id: pB, total_operations: 2, successful_operations: 1, success_rate: 50, avg_processing_time: 50 })]);
  });

  it('conflict_resolution_stats: last 30 days, average hours to resolve, per tenant', async () => {
    await conflict(A, pA1, 'resolved', ago('3 hours'), { resolved_at: ago('1 hour'), resolution_strategy: 'resman_wins' });
    await conflict(A, pA1, 'resolved', ago('5 hours'), { resolved_at: ago('1 hour'), resolution_strategy: 'domiq_wins' });
    await conflict(A, pA1, 'pending', ago('1 minute'), { conflict_type: 'status_conflict', conflict_severity: 'medium' });
    await conflict(A, pA2, 'pending', ago('60 days'), { conflict_type: 'status_conflict', conflict_severity: 'medium' }); // outside the window
    await conflict(B, pB, 'pending', ago('2 minutes'), { conflict_type: 'duplicate_lead', conflict_severity: 'low' });

    const a = await view('conflict_resolution_stats', A, 'conflict_type');
    expect(a).toHaveLength(2);
    expect(a[0]).toMatchObject({ conflict_type: 'data_conflict', conflict_severity: 'high', resolution_status: 'resolved', total_conflicts: 2, resolved_conflicts: 2 });
    expect(a[0]!.avg_resolution_hours).toBeCloseTo(3, 6);
    expect(a[1]).toMatchObject({ conflict_type: 'status_conflict', resolution_status: 'pending', total_conflicts: 1, resolved_conflicts: 0, avg_resolution_hours: null });

    expect(await view('conflict_resolution_stats', B, 'conflict_type')).toEqual([
      expect.objectContaining({ account_id: B, conflict_type: 'duplicate_lead', total_conflicts: 1 }),
    ]);
  });

  it('queue_performance_metrics: last 24 hours per operation, priority and status, per tenant', async () => {
    await queueItem(A, pA1, 'pending', ago('1 minute'));
    await queueItem(A, pA1, 'pending', ago('2 minutes'));
    await queueItem(A, pA1, 'completed', ago('60 seconds'), { priority: 3, processed_at: ago('30 seconds') });
    await queueItem(A, pA1, 'completed', ago('100 seconds'), { priority: 3, processed_at: ago('10 seconds'), retry_count: 1 });
    await queueItem(A, pA1, 'failed', ago('5 minutes'), { sync_operation: 'enrichment', priority: 1, retry_count: 3 });
    await queueItem(A, pA2, 'pending', ago('10 days')); // outside the window, still backlog
    await queueItem(B, pB, 'pending', ago('1 minute'));

    const a = await view('queue_performance_metrics', A, 'sync_operation, priority, status');
    expect(a).toHaveLength(3);
    expect(a[0]).toMatchObject({ sync_operation: 'enrichment', priority: 1, status: 'failed', queue_items: 1, max_retries: 3, failed_items: 1, avg_processing_seconds: null });
    expect(a[1]).toMatchObject({ sync_operation: 'push', priority: 2, status: 'pending', queue_items: 2, failed_items: 0 });
    expect(a[2]).toMatchObject({ sync_operation: 'push', priority: 3, status: 'completed', queue_items: 2, max_retries: 1 });
    expect(a[2]!.avg_processing_seconds).toBeCloseTo(60, 6);

    expect(await view('queue_performance_metrics', B, 'status')).toEqual([expect.objectContaining({ account_id: B, status: 'pending', queue_items: 1 })]);
  });

  it('property_sync_status: every integrated property with its pending queue items and conflicts, per tenant', async () => {
    await integration(A, pA1, { sync_status: 'error', error_count: 2 });
    await integration(A, pA2, { sync_enabled: false, sync_status: 'paused' });
    await integration(B, pB, { last_successful_sync_at: '2026-01-02T03:04:05Z' });
    await integration(C, pC);

    const a = await view('property_sync_status', A, 'resman_property_id');
    expect(a).toHaveLength(2);
    // pA1: 2 pending items and 1 pending conflict (the seed's double LEFT JOIN would say 2 and 2).
    expect(a.find((r) => r.property_id === pA1)).toMatchObject({ account_id: A, sync_enabled: true, sync_status: 'error', error_count: 2, pending_queue_items: 2, pending_conflicts: 1 });
    expect(a.find((r) => r.property_id === pA2)).toMatchObject({ sync_enabled: false, sync_status: 'paused', pending_queue_items: 1, pending_conflicts: 1 });

    const b = await view('property_sync_status', B, 'property_id');
    expect(b).toHaveLength(1);
    expect(b[0]).toMatchObject({ property_id: pB, resman_property_id: `rp-${pB.slice(0, 8)}`, pending_queue_items: 1, pending_conflicts: 1 });
    expect(new Date(b[0]!.last_successful_sync_at).toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(await view('property_sync_status', C, 'property_id')).toEqual([expect.objectContaining({ property_id: pC, pending_queue_items: 0, pending_conflicts: 0 })]);
  });

  it('sync_health_monitoring: the three metrics for every tenant, zero when nothing matches', async () => {
    const a = await view('sync_health_monitoring', A, 'metric');
    expect(a.map((r) => [r.metric, r.count])).toEqual([['pending_conflicts', 2], ['queue_backlog', 3], ['sync_failures', 1]]);
    expect(a.every((r) => r.last_occurrence instanceof Date)).toBe(true);

    // B's failure is two hours old: outside the one-hour window.
    const b = await view('sync_health_monitoring', B, 'metric');
    expect(b.map((r) => [r.metric, r.count])).toEqual([['pending_conflicts', 1], ['queue_backlog', 1], ['sync_failures', 0]]);
    expect(b.find((r) => r.metric === 'sync_failures')!.last_occurrence).toBeNull();

    expect((await view('sync_health_monitoring', C, 'metric')).map((r) => [r.metric, r.count]))
      .toEqual([['pending_conflicts', 0], ['queue_backlog', 0], ['sync_failures', 0]]);
  });

  it('communication_sync_success_rate: last 24 hours per channel and direction, per tenant', async () => {
    await communication(A, 'sms', 'success', ago('1 minute'));
    await communication(A, 'sms', 'failed', ago('2 minutes'));
    await communication(A, 'sms', 'success', ago('2 days')); // outside the window
    await communication(A, 'email', 'success', ago('3 minutes'));
    await communication(B, 'sms', 'pending', ago('1 minute'));

    expect(await view('communication_sync_success_rate', A, 'communication_type')).toEqual([
      expect.objectContaining({ account_id: A, communication_type: 'email', sync_direction: 'to_resman', total_communications: 1, successful_syncs: 1, success_rate: 100 }),
      expect.objectContaining({ account_id: A, communication_type: 'sms', total_communications: 2, successful_syncs: 1, success_rate: 50 }),
    ]);
    expect(await view('communication_sync_success_rate', B, 'communication_type')).toEqual([
      expect.objectContaining({ account_id: B, communication_type: 'sms', total_communications: 1, successful_syncs: 0, success_rate: 0 }),
    ]);
  });

  it('compliance_flags_summary: last 30 days per type and severity, per tenant', async () => {
    await flag(A, 'opt_out', 'high', true, ago('1 day'));
    await flag(A, 'opt_out', 'high', false, ago('2 days'));
    await flag(A, 'opt_out', 'high', true, ago('40 days')); // outside the window
    await flag(A, 'sensitive_data', 'critical', false, ago('1 minute'));
    await flag(B, 'gdpr_consent', 'low', true, ago('1 minute'));

    expect(await view('compliance_flags_summary', A, 'flag_type')).toEqual([
      expect.objectContaining({ account_id: A, flag_type: 'opt_out', flag_severity: 'high', total_flags: 2, resolved_flags: 1, resolution_rate: 50 }),
      expect.objectContaining({ flag_type: 'sensitive_data', flag_severity: 'critical', total_flags: 1, resolved_flags: 0, resolution_rate: 0 }),
    ]);
    expect(await view('compliance_flags_summary', B, 'flag_type')).toEqual([
      expect.objectContaining({ account_id: B, flag_type: 'gdpr_consent', total_flags: 1, resolution_rate: 100 }),
    ]);
  });

  it('contact_sync_success_rate: per property, per tenant', async () => {
    for (const status of ['success', 'success', 'failed', 'merged']) await contact(A, pA1, status);
    await contact(A, pA2, 'pending');
    await contact(B, pB, 'success');

    const a = await view('contact_sync_success_rate', A, 'sync_success_rate desc');
    expect(a).toEqual([
      { account_id: A, property_id: pA1, sync_success_rate: 50, merged_contacts: 1 },
      { account_id: A, property_id: pA2, sync_success_rate: 0, merged_contacts: 0 },
    ]);
    expect(await view('contact_sync_success_rate', B, 'property_id')).toEqual([{ account_id: B, property_id: pB, sync_success_rate: 100, merged_contacts: 0 }]);
  });

  it('status_sync_success_rate: per property, per tenant', async () => {
    for (const status of ['success', 'success', 'failed']) await statusLog(A, pA1, status);
    await statusLog(B, pB, 'failed');

    const a = await view('status_sync_success_rate', A, 'property_id');
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ account_id: A, property_id: pA1, failed_status_updates: 1 });
    expect(a[0]!.sync_success_rate).toBeCloseTo(200 / 3, 9);
    expect(await view('status_sync_success_rate', B, 'property_id')).toEqual([{ account_id: B, property_id: pB, sync_success_rate: 0, failed_status_updates: 1 }]);
  });

  it('every view is tenant-scoped: no account sees another account\'s rows', async () => {
    for (const name of ['sync_success_rates', 'conflict_resolution_stats', 'queue_performance_metrics', 'property_sync_status', 'sync_health_monitoring',
      'communication_sync_success_rate', 'compliance_flags_summary', 'contact_sync_success_rate', 'status_sync_success_rate']) {
      const accounts = await stack.db.query<{ account_id: string }>(`select distinct account_id from resman_connector.${name}`);
      expect(accounts.map((r) => r.account_id).sort(), name).toEqual(expect.arrayContaining([A, B]));
      for (const acct of [A, B]) {
        const rows = await view(name, acct, 'account_id');
        expect(rows.length, `${name} for ${acct}`).toBeGreaterThan(0);
        expect(rows.every((r) => r.account_id === acct), name).toBe(true);
      }
    }
  });
});

describe('archive functions', () => {
  it('archive_old_sync_logs moves logs older than 90 days with their contents, keeps recent ones, and is safe to re-run', async () => {
    const old = await syncLog(A, pA1, 'failed', ago('100 days'), { sync_data: { prospect: 'P-1' }, error_code: 'E42', processing_time_ms: 7 });
    const oldB = await syncLog(B, pB, 'success', ago('91 days'));
    const recent = await syncLog(A, pA1, 'success', ago('89 days'));
    const liveBefore = await count('lead_sync_log', 'true', []);

    await stack.db.query('select resman_connector.archive_old_sync_logs()');
    expect(await count('lead_sync_log', 'id = any($1)', [[old, oldB]])).toBe(0);
    expect(await count('lead_sync_log', 'id = $1', [recent])).toBe(1);
    expect(await count('lead_sync_log', 'true', [])).toBe(liveBefore - 2);
    const [archived] = await stack.db.query<Record<string, any>>(`select * from resman_connector.lead_sync_log_archive where id = $1`, [old]);
    expect(archived).toMatchObject({ account_id: A, property_id: pA1, sync_status: 'failed', sync_data: { prospect: 'P-1' }, error_code: 'E42', processing_time_ms: 7 });
    expect(archived!.archived_at).toBeInstanceOf(Date);
    expect(Date.now() - archived!.created_at.getTime()).toBeGreaterThan(99 * 86_400_000);

    // Again: nothing left to move, nothing fails.
    await stack.db.query('select resman_connector.archive_old_sync_logs()');
    expect(await count('lead_sync_log_archive', 'id = any($1)', [[old, oldB]])).toBe(2);

    // The same row (same id) back in the live table and ageing out again: archived a second time, not refused.
    await syncLog(A, pA1, 'success', ago('95 days'), { id: old });
    await stack.db.query('select resman_connector.archive_old_sync_logs()');
    expect(await count('lead_sync_log', 'id = $1', [old])).toBe(0);
    const versions = await stack.db.query<{ sync_status: string }>(`select sync_status from resman_connector.lead_sync_log_archive where id = $1 order by archived_at, created_at`, [old]);
    expect(versions.map((v) => v.sync_status).sort()).toEqual(['failed', 'success']);
  });

  it('archive_resolved_conflicts moves conflicts resolved more than 30 days ago', async () => {
    const old = await conflict(A, pA1, 'resolved', ago('45 days'), { resolved_at: ago('40 days'), resolution_strategy: 'merged', resolved_value: JSON.stringify(['a', 'b']) });
    const recentlyResolved = await conflict(A, pA1, 'resolved', ago('45 days'), { resolved_at: ago('10 days') });
    const oldPending = await conflict(A, pA1, 'pending', ago('45 days'));
    const oldAutoResolved = await conflict(B, pB, 'auto_resolved', ago('45 days'), { resolved_at: ago('40 days') });

    await stack.db.query('select resman_connector.archive_resolved_conflicts()');
    await stack.db.query('select resman_connector.archive_resolved_conflicts()');
    expect(await count('lead_sync_conflicts', 'id = $1', [old])).toBe(0);
    expect(await count('lead_sync_conflicts', 'id = any($1)', [[recentlyResolved, oldPending, oldAutoResolved]])).toBe(3);
    const archived = await stack.db.query<Record<string, any>>(`select * from resman_connector.lead_sync_conflicts_archive`);
    expect(archived).toHaveLength(1);
    expect(archived[0]).toMatchObject({ id: old, account_id: A, resolution_strategy: 'merged', resolved_value: ['a', 'b'] });
  });

  it('cleanup_old_queue_items moves finished items older than 7 days, keeps pending and recent ones', async () => {
    const oldCompleted = await queueItem(A, pA1, 'completed', ago('8 days'), { processed_at: ago('8 days') });
    const oldFailed = await queueItem(B, pB, 'failed', ago('30 days'), { retry_count: 3 });
    const oldCancelled = await queueItem(A, pA2, 'cancelled', ago('9 days'));
    const oldPending = await queueItem(A, pA1, 'pending', ago('8 days'));
    const recentCompleted = await queueItem(A, pA1, 'completed', ago('6 days'));

    await stack.db.query('select resman_connector.cleanup_old_queue_items()');
    await stack.db.query('select resman_connector.cleanup_old_queue_items()');
    expect(await count('lead_sync_queue', 'id = any($1)', [[oldCompleted, oldFailed, oldCancelled]])).toBe(0);
    expect(await count('lead_sync_queue', 'id = any($1)', [[oldPending, recentCompleted]])).toBe(2);
    const archived = await stack.db.query<{ id: string; status: string; retry_count: number }>(`select id, status, retry_count from resman_connector.lead_sync_queue_archive order by status`);
    expect(archived).toEqual([
      { id: oldCancelled, status: 'cancelled', retry_count: 0 },
      { id: oldCompleted, status: 'completed', retry_count: 0 },
      { id: oldFailed, status: 'failed', retry_count: 3 },
    ]);
  });
});

describe('the service runs the archive functions', () => {
  it('every RESMAN_ARCHIVE_INTERVAL_MS: old finished queue rows and resolved conflicts move to the archive by themselves, pending rows stay', async () => {
    const oldDone = await queueItem(A, pA1, 'completed', ago('10 days'), { processed_at: ago('10 days') });
    const stillPending = await queueItem(A, pA1, 'pending', ago('10 days'));
    const oldResolved = await conflict(A, pA1, 'resolved', ago('50 days'), { resolved_at: ago('45 days') });
    const connector = stack.services['resman-connector']!;
    connector.opts.env.RESMAN_ARCHIVE_INTERVAL_MS = '300';
    await connector.restart();
    await expectEventually(async () => {
      expect(await count('lead_sync_queue', 'id = $1', [oldDone])).toBe(0);
      expect(await count('lead_sync_conflicts', 'id = $1', [oldResolved])).toBe(0);
    }, { timeoutMs: 15_000, message: 'archived by the running service' });
    expect(await count('lead_sync_queue_archive', 'id = $1', [oldDone])).toBe(1);
    expect(await count('lead_sync_conflicts_archive', 'id = $1', [oldResolved])).toBe(1);
    expect(await count('lead_sync_queue', 'id = $1', [stillPending])).toBe(1);
  });
});

describe('seed CHECK constraints', () => {
  it('every named constraint of the seeds exists on its table', async () => {
    const rows = await stack.db.query<{ rel: string; conname: string }>(
      `select c.conrelid::regclass::text as rel, c.conname from pg_constraint c
        where c.connamespace = 'resman_connector'::regnamespace and c.contype = 'c'`);
    const have = new Set(rows.map((r) => `${r.rel.replace(/^resman_connector\./, '')}.${r.conname}`));
    for (const expected of [
      'communication_log_sync.chk_sentiment_score', 'communication_log_sync.chk_communication_log_sync_retry_count',
      'communication_sync_queue.chk_communication_sync_queue_priority_range', 'communication_sync_queue.chk_retry_count_limit',
      'contact_sync.chk_contact_sync_status', 'contact_sync.chk_user_resman_sync_version', 'contact_sync.chk_user_resman_sync_mapping',
      'contact_matching_rules.chk_merge_strategy', 'contact_enrichment_log.chk_enrichment_type',
      'status_sync_log.chk_status_sync_status', 'status_sync_log.chk_status_sync_direction', 'status_sync_log.chk_status_updated_by',
      'status_notification_preferences.chk_notification_method',
      'lead_sync_queue.chk_retry_count', 'lead_sync_queue.chk_priority_range', 'lead_sync_mapping.chk_resman_sync_version',
    ]) expect(have.has(expected), expected).toBe(true);
    // The archives copy neither CHECKs nor unique keys (see the migration): they take whatever the live table held.
    const archiveConstraints = await stack.db.query(
      `select conrelid::regclass::text, conname from pg_constraint where conrelid = any(array['resman_connector.lead_sync_log_archive',
        'resman_connector.lead_sync_conflicts_archive', 'resman_connector.lead_sync_queue_archive']::regclass[]) and contype in ('c', 'p', 'u')`);
    expect(archiveConstraints).toEqual([]);
  });

  it('rejects values the seeds rule out', async () => {
    const comm = { account_id: A, property_id: pA1, customer_id: randomUUID() };
    await expect(insert('communication_log_sync', { ...comm, message_id: randomUUID(), sentiment_score: 1.5 })).rejects.toThrow(/chk_sentiment_score/);
    await expect(insert('communication_log_sync', { ...comm, message_id: randomUUID(), retry_count: -1 })).rejects.toThrow(/chk_communication_log_sync_retry_count/);
    await expect(insert('communication_sync_queue', { account_id: A, retry_count: 4, max_retries: 3 })).rejects.toThrow(/chk_retry_count_limit/);
    await expect(queueItem(A, pA1, 'pending', ago('1 minute'), { retry_count: 4, max_retries: 3 })).rejects.toThrow(/chk_retry_count/);
    await expect(queueItem(A, pA1, 'pending', ago('1 minute'), { priority: 4 })).rejects.toThrow(/chk_priority_range/);
    await expect(contact(A, pA1, 'synced')).rejects.toThrow(/chk_contact_sync_status/);
    await expect(insert('contact_matching_rules', { account_id: A, matching_criteria: { email: true }, merge_strategy: 'merged' })).rejects.toThrow(/chk_merge_strategy/);
    await expect(insert('contact_enrichment_log', { account_id: A, enrichment_type: 'gossip' })).rejects.toThrow(/chk_enrichment_type/);
    await expect(statusLog(A, pA1, 'conflict')).rejects.toThrow(/chk_status_sync_status/);
  });
});
