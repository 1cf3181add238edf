import { Migration } from '@mikro-orm/migrations';

// The rest of the four resman seeds that the ORM cannot express: their monitoring views, archive tables and
// archive functions. Per DESIGN.md "Seeds that touch another service's tables", views that joined DomIQ's
// property / conversation / "user" tables read the property_id and account_id the connector's own rows carry,
// and every view carries account_id so a caller can scope it to one tenant (every lookup filters by it).
// The seeds' CHECK constraints ("Data Consistency Constraints") are all declared on the entities already
// (Migration20261122200252); the ones on DomIQ's conversation / "user" / lead_notification either live on
// lead_sync_mapping / contact_sync or, for lead_notification, have no table here.
const S = 'resman_connector';

const VIEWS = [
  'sync_success_rates', 'conflict_resolution_stats', 'queue_performance_metrics', 'property_sync_status', 'sync_health_monitoring',
  'communication_sync_success_rate', 'compliance_flags_summary', 'contact_sync_success_rate', 'status_sync_success_rate',
];

export class Migration20261122204606_seed_views extends Migration {
  override up(): void {
    // ------------------------------------------------------------ resman-lead-sync.md: monitoring views

    // lead_sync_log stores property_id (the seed's view groups by it although its table lacks the column).
    this.addSql(`create view ${S}.sync_success_rates as
select account_id,
       property_id,
       sync_direction,
       sync_type,
       count(*) as total_operations,
       count(case when sync_status = 'success' then 1 end) as successful_operations,
       round(count(case when sync_status = 'success' then 1 end)::decimal / count(*) * 100, 2) as success_rate,
       avg(processing_time_ms) as avg_processing_time,
       max(created_at) as last_operation
  from ${S}.lead_sync_log
 where created_at >= now() - interval '24 hours'
 group by account_id, property_id, sync_direction, sync_type`);

    this.addSql(`create view ${S}.conflict_resolution_stats as
select account_id,
       conflict_type,
       conflict_severity,
       resolution_status,
       count(*) as total_conflicts,
       count(case when resolution_status = 'resolved' then 1 end) as resolved_conflicts,
       avg(extract(epoch from (resolved_at - created_at)) / 3600) as avg_resolution_hours
  from ${S}.lead_sync_conflicts
 where created_at >= now() - interval '30 days'
 group by account_id, conflict_type, conflict_severity, resolution_status`);

    this.addSql(`create view ${S}.queue_performance_metrics as
select account_id,
       sync_operation,
       priority,
       status,
       count(*) as queue_items,
       avg(extract(epoch from (processed_at - created_at))) as avg_processing_seconds,
       max(retry_count) as max_retries,
       count(case when status = 'failed' then 1 end) as failed_items
  from ${S}.lead_sync_queue
 where created_at >= now() - interval '24 hours'
 group by account_id, sync_operation, priority, status`);

    // The seed lists every DomIQ property (property lives in identity); here the properties are those with a
    // resman_integration row, and queue items / conflicts carry property_id instead of reaching it through
    // conversation. property_name is identity's (ask identity by property_id); resman_property_id is the
    // connector's own name for the property. The two counts are scalar subqueries: the seed's two LEFT JOINs
    // multiply each other (2 pending items and 3 pending conflicts would report 6 and 6).
    this.addSql(`create view ${S}.property_sync_status as
select ri.account_id,
       ri.property_id,
       ri.resman_property_id,
       ri.sync_enabled,
       ri.sync_status,
       ri.last_successful_sync_at,
       ri.error_count,
       (select count(*) from ${S}.lead_sync_queue q
         where q.account_id = ri.account_id and q.property_id = ri.property_id and q.status = 'pending') as pending_queue_items,
       (select count(*) from ${S}.lead_sync_conflicts c
         where c.account_id = ri.account_id and c.property_id = ri.property_id and c.resolution_status = 'pending') as pending_conflicts
  from ${S}.resman_integration ri`);

    // The seed always returns its three metric rows (count 0 when nothing matches); per tenant that means three
    // rows for every account the connector knows: one with an integration, or with rows behind any metric.
    this.addSql(`create view ${S}.sync_health_monitoring as
select t.account_id,
       m.metric,
       coalesce(s.count, 0) as count,
       s.last_occurrence
  from (select account_id from ${S}.resman_integration
        union select account_id from ${S}.lead_sync_log where sync_status = 'failed' and created_at >= now() - interval '1 hour'
        union select account_id from ${S}.lead_sync_conflicts where resolution_status = 'pending'
        union select account_id from ${S}.lead_sync_queue where status = 'pending') t
 cross join (values ('sync_failures'), ('pending_conflicts'), ('queue_backlog')) m (metric)
  left join (select account_id, 'sync_failures' as metric, count(*) as count, max(created_at) as last_occurrence
               from ${S}.lead_sync_log
              where sync_status = 'failed' and created_at >= now() - interval '1 hour'
              group by account_id
             union all
             select account_id, 'pending_conflicts', count(*), max(created_at)
               from ${S}.lead_sync_conflicts
              where resolution_status = 'pending'
              group by account_id
             union all
             select account_id, 'queue_backlog', count(*), max(created_at)
               from ${S}.lead_sync_queue
              where status = 'pending'
              group by account_id) s on s.account_id = t.account_id and s.metric = m.metric`);

    // ------------------------------------------------------------ resman-communications-logging.md
    this.addSql(`create view ${S}.communication_sync_success_rate as
select account_id,
       communication_type,
       sync_direction,
       count(*) as total_communications,
       count(*) filter (where sync_status = 'success') as successful_syncs,
       round(count(*) filter (where sync_status = 'success')::decimal / count(*) * 100, 2) as success_rate
  from ${S}.communication_log_sync
 where created_at >= now() - interval '24 hours'
 group by account_id, communication_type, sync_direction`);

    this.addSql(`create view ${S}.compliance_flags_summary as
select account_id,
       flag_type,
       flag_severity,
       count(*) as total_flags,
       count(*) filter (where is_resolved = true) as resolved_flags,
       round(count(*) filter (where is_resolved = true)::decimal / count(*) * 100, 2) as resolution_rate
  from ${S}.communication_compliance_flags
 where created_at >= now() - interval '30 days'
 group by account_id, flag_type, flag_severity`);

    // ------------------------------------------------------------ resman-contact-management.md
    // The seed reaches property_id through "user" and property (joined on u.id = p.id, which matches nothing);
    // contact_sync is one row per customer per property, so it groups its own property_id.
    this.addSql(`create view ${S}.contact_sync_success_rate as
select account_id,
       property_id,
       count(*) filter (where sync_status = 'success')::float / nullif(count(*), 0) * 100 as sync_success_rate,
       count(*) filter (where sync_status = 'merged') as merged_contacts
  from ${S}.contact_sync
 group by account_id, property_id`);

    // ------------------------------------------------------------ resman-status-update.md
    // The seed reaches property_id through conversation; status_sync_log stores it.
    this.addSql(`create view ${S}.status_sync_success_rate as
select account_id,
       property_id,
       count(*) filter (where sync_status = 'success')::float / nullif(count(*), 0) * 100 as sync_success_rate,
       count(*) filter (where sync_status = 'failed') as failed_status_updates
  from ${S}.status_sync_log
 group by account_id, property_id`);

    // ------------------------------------------------------------ resman-lead-sync.md: archiving
    // LIKE ... INCLUDING ALL, but EXCLUDING INDEXES and EXCLUDING CONSTRAINTS:
    // - indexes: INCLUDING ALL would copy the primary key on id, so a row archived a second time (same id back in
    //   the live table, e.g. restored from the archive, ageing out again) would fail the whole archive run. The
    //   archive is append-only history, so it keeps both versions (told apart by archived_at) instead of refusing
    //   the second or, with ON CONFLICT DO NOTHING, silently dropping the newer one. It gets the two indexes an
    //   archive is read by instead of the live table's dozen partial ones.
    // - constraints (CHECKs): the archive records what the live table accepted at the time; a copied CHECK would
    //   make archiving fail as soon as a later migration widens the live one (a new sync_status) and forgets the
    //   archive. NOT NULL is still copied (LIKE always copies it).
    for (const table of ['lead_sync_log', 'lead_sync_conflicts', 'lead_sync_queue']) {
      this.addSql(`create table ${S}.${table}_archive (
  like ${S}.${table} including all excluding indexes excluding constraints,
  archived_at timestamptz default now()
)`);
      this.addSql(`create index idx_${table}_archive_id on ${S}.${table}_archive (id)`);
      this.addSql(`create index idx_${table}_archive_account_created on ${S}.${table}_archive (account_id, created_at)`);
      this.addSql(`comment on table ${S}.${table}_archive is 'Rows moved out of ${table} by the archive functions; append-only history'`);
    }

    // The seed's INSERT ... SELECT then DELETE, as one DELETE ... RETURNING feeding the INSERT: exactly the rows
    // deleted are archived (the seed's two statements each take a snapshot under READ COMMITTED, so a conflict
    // resolved in between would be deleted without having been archived), and a concurrent second run blocks on
    // the row locks, then finds the rows gone and moves nothing. Columns are matched by name through jsonb, not by
    // position as the seed's "select *, now()" does: a column a later migration adds to a live table and its
    // archive lands after archived_at in the archive, which the positional form would misalign.
    // A column added to a live table must be added to its archive too, or its values are not archived.
    const archive = (fn: string, table: string, where: string, what: string) => this.addSql(`create or replace function ${S}.${fn}() returns void language plpgsql as $$
begin
  -- ${what}
  with moved as (
    delete from ${S}.${table}
     where ${where}
    returning *
  )
  insert into ${S}.${table}_archive
  select r.*
    from moved m,
         jsonb_populate_record(null::${S}.${table}_archive, to_jsonb(m) || jsonb_build_object('archived_at', now())) r;
end $$`);
    archive('archive_old_sync_logs', 'lead_sync_log', `created_at < now() - interval '90 days'`, 'Archive sync logs older than 90 days.');
    archive('archive_resolved_conflicts', 'lead_sync_conflicts', `resolution_status = 'resolved' and resolved_at < now() - interval '30 days'`,
      'Archive conflicts resolved more than 30 days ago.');
    archive('cleanup_old_queue_items', 'lead_sync_queue', `status in ('completed', 'failed', 'cancelled') and created_at < now() - interval '7 days'`,
      'Archive finished queue items older than 7 days.');
  }

  override down(): void {
    for (const fn of ['archive_old_sync_logs', 'archive_resolved_conflicts', 'cleanup_old_queue_items']) this.addSql(`drop function if exists ${S}.${fn}()`);
    for (const table of ['lead_sync_log', 'lead_sync_conflicts', 'lead_sync_queue']) this.addSql(`drop table if exists ${S}.${table}_archive`);
    for (const view of VIEWS) this.addSql(`drop view if exists ${S}.${view}`);
  }
}
