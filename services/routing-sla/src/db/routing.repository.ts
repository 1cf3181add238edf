// Set-based queries of routing (the hot path: a whole batch of conversations in a few statements, without the unit
// of work). None opens a transaction: they run in the caller's. Many values travel as one JSON parameter (the
// driver would expand a JS array into a list of scalars), read with json_to_recordset / json_array_elements_text.
import { lockAllForTransaction, query, type EntityManager } from '@domiq/db';
import { Agent, ConversationSla, Sla } from './routing-sla.entities.ts';

const S = '"routing_sla"';

/** The advisory lock key serialising routing (and presence changes) within one account. */
export function accountLockKey(accountId: string): string {
  return `routing-sla:account:${accountId}`;
}

/** Takes the routing lock of each account until the transaction ends (lockAllForTransaction: sorted, one statement). */
export async function lockAccounts(em: EntityManager, accountIds: readonly string[]): Promise<void> {
  await lockAllForTransaction(em, accountIds.map(accountLockKey));
}

/** Which of these conversations (of their accounts) routing has seen already: their SLA row exists. */
export async function findRoutedConversationIds(em: EntityManager, conversations: ReadonlyArray<{ accountId: string; conversationId: string }>): Promise<Set<string>> {
  if (conversations.length === 0) return new Set();
  const rows = await em.createQueryBuilder(ConversationSla).select(['accountId', 'conversationId'])
    .where({ accountId: { $in: [...new Set(conversations.map((c) => c.accountId))] }, conversationId: { $in: [...new Set(conversations.map((c) => c.conversationId))] } })
    .execute('all');
  // Both lists are filters; a row counts only for the account whose conversation it is.
  const wanted = new Set(conversations.map((c) => `${c.accountId}|${c.conversationId}`));
  return new Set(rows.filter((r) => wanted.has(`${r.accountId}|${r.conversationId}`)).map((r) => r.conversationId));
}

/**
 * The active policies of these accounts that can apply at these properties: account-wide ones, and the
 * properties' own. Plain rows (outside the unit of work).
 */
export async function findActivePolicies(em: EntityManager, accountIds: readonly string[], propertyIds: readonly string[]) {
  if (accountIds.length === 0) return [];
  const properties = [...new Set(propertyIds)];
  return em.createQueryBuilder(Sla).select('*')
    .where({ accountId: { $in: [...new Set(accountIds)] }, isActive: true, $or: properties.length ? [{ propertyId: null }, { propertyId: { $in: properties } }] : [{ propertyId: null }] })
    .execute('all');
}

/** The available agents of these accounts, with their load and last assignment. Plain rows (outside the unit of work). */
export async function findAvailableAgents(em: EntityManager, accountIds: readonly string[]) {
  if (accountIds.length === 0) return [];
  return em.createQueryBuilder(Agent)
    .select(['agentId', 'accountId', 'teamId', 'status', 'currentConversationCount', 'maxConcurrentConversations', 'lastAssignedAt'])
    .where({ accountId: { $in: [...new Set(accountIds)] }, status: 'available' })
    .execute('all');
}

export interface ConversationSlaInsert {
  conversationId: string;
  accountId: string;
  propertyId: string | null;
  slaPolicyId: string | null;
  startedAt: Date;
  firstResponseDueAt: Date | null;
  resolutionDueAt: Date | null;
}

/** The SLA rows of newly routed conversations, in one statement. */
export async function insertConversationSlas(em: EntityManager, rows: readonly ConversationSlaInsert[]): Promise<void> {
  if (rows.length === 0) return;
  await query(em,
    `insert into ${S}.conversation_slas (conversation_id, account_id, property_id, sla_policy_id, started_at, first_response_due_at, resolution_due_at)
     select conversation_id, account_id, property_id, sla_policy_id, started_at, first_response_due_at, resolution_due_at
       from json_to_recordset(?::json) as r(conversation_id uuid, account_id uuid, property_id uuid, sla_policy_id uuid, started_at timestamptz, first_response_due_at timestamptz, resolution_due_at timestamptz)`,
    [JSON.stringify(rows.map((r) => ({
      conversation_id: r.conversationId, account_id: r.accountId, property_id: r.propertyId, sla_policy_id: r.slaPolicyId,
      started_at: r.startedAt.toISOString(), first_response_due_at: r.firstResponseDueAt?.toISOString() ?? null, resolution_due_at: r.resolutionDueAt?.toISOString() ?? null,
    })))],
  );
}

export interface AssignmentInsert {
  accountId: string;
  conversationId: string;
  agentId: string;
  teamId: string | null;
  assignedAt: Date;
}

/**
 * Round-robin assignments (assigned_by routing_engine, reason round_robin) in one statement, and the agents' bookings
 * in another: each agent's load up by the conversations it was given, its last assignment the latest of them.
 */
export async function insertRoundRobinAssignments(em: EntityManager, rows: readonly AssignmentInsert[]): Promise<void> {
  if (rows.length === 0) return;
  await query(em,
    `insert into ${S}.assignments (account_id, conversation_id, agent_id, team_id, assigned_by, reason, assigned_at)
     select account_id, conversation_id, agent_id, team_id, 'routing_engine', 'round_robin', assigned_at
       from json_to_recordset(?::json) as r(account_id uuid, conversation_id uuid, agent_id uuid, team_id uuid, assigned_at timestamptz)`,
    [JSON.stringify(rows.map((r) => ({ account_id: r.accountId, conversation_id: r.conversationId, agent_id: r.agentId, team_id: r.teamId, assigned_at: r.assignedAt.toISOString() })))],
  );
  const booked = new Map<string, { agent_id: string; account_id: string; added: number; last_assigned_at: Date }>();
  for (const r of rows) {
    const b = booked.get(r.agentId);
    if (!b) booked.set(r.agentId, { agent_id: r.agentId, account_id: r.accountId, added: 1, last_assigned_at: r.assignedAt });
    else {
      b.added += 1;
      if (r.assignedAt > b.last_assigned_at) b.last_assigned_at = r.assignedAt;
    }
  }
  // Relative to the stored load: a profile refresh (registerAgent) committing meanwhile is not overwritten.
  const updates = [...booked.values()].map((b) => ({ ...b, last_assigned_at: b.last_assigned_at.toISOString() }));
  await query(em,
    `update ${S}.agents a set current_conversation_count = a.current_conversation_count + r.added, last_assigned_at = r.last_assigned_at
       from json_to_recordset(?::json) as r(agent_id uuid, account_id uuid, added int, last_assigned_at timestamptz)
      where a.agent_id = r.agent_id and a.account_id = r.account_id`,
    [JSON.stringify(updates)],
  );
}
