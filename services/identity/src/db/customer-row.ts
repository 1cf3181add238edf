// A customers row as the plain-SQL repositories read it (RETURNED) and hand it on (CustomerRecord).
import { rowDate } from '@domiq/db';
import type { SlaTier } from '@domiq/proto/vocabulary';
import type { CustomerProfile, IdentityGraph } from './identity.entities.ts';

/** What resolution answers about a customer (the columns the gRPC message and the events carry). */
export interface CustomerRecord {
  id: string;
  accountId: string;
  identityGraph: IdentityGraph;
  profile: CustomerProfile;
  slaTier: SlaTier;
  status: string;
  mergedIntoId: string | null;
  erasedAt: Date | null;
  tags: string[];
  segments: string[];
  riskFlags: string[];
  firstSeenAt: Date;
  createdAt: Date;
}

export interface CustomerSqlRow {
  id: string;
  account_id: string;
  identity_graph: IdentityGraph;
  profile: CustomerProfile;
  sla_tier: SlaTier;
  status: string;
  merged_into_id: string | null;
  erased_at: Date | string | null;
  tags: string[];
  segments: string[];
  risk_flags: string[];
  first_seen_at: Date | string;
  created_at: Date | string;
}

export const RETURNED = 'c.id, c.account_id, c.identity_graph, c.profile, c.sla_tier, c.status, c.merged_into_id, c.erased_at, c.tags, c.segments, c.risk_flags, c.first_seen_at, c.created_at';

export function toRecord(r: CustomerSqlRow): CustomerRecord {
  return {
    id: r.id, accountId: r.account_id, identityGraph: r.identity_graph, profile: r.profile, slaTier: r.sla_tier, status: r.status,
    mergedIntoId: r.merged_into_id, erasedAt: rowDate(r.erased_at), tags: r.tags, segments: r.segments, riskFlags: r.risk_flags,
    firstSeenAt: rowDate(r.first_seen_at), createdAt: rowDate(r.created_at),
  };
}

