// Full-text search over messages: the seed's GIN index on to_tsvector('english', content) (stored as the generated
// column search_vector, migration ..._search) finds the matches, the
// newest CANDIDATES of them are ranked (ts_rank_cd) and the best `limit` get a highlighted snippet. Capping the
// candidates keeps the cost flat however common the words are: PostgreSQL either walks (account_id, created_at)
// backwards until it has them (common words) or takes the GIN bitmap (rare ones), whichever it estimates cheaper.
import { query, rowDate, type EntityManager } from '@domiq/db';

/** How many of the newest matches are ranked. */
export const SEARCH_CANDIDATES = 500;

export interface SearchFilter {
  accountId: string;
  /** Properties the reader is limited to (null: all). */
  propertyScope: readonly string[] | null;
  conversationId: string | null;
  text: string;
  limit: number;
  groupByConversation: boolean;
}

export interface SearchHitRow {
  messageId: string;
  conversationId: string;
  channel: string;
  direction: string;
  createdAt: Date;
  snippet: string;
  rank: number;
}

export async function searchMessages(em: EntityManager, f: SearchFilter): Promise<SearchHitRow[]> {
  const scoped = f.propertyScope !== null;
  // The tsquery is written out where it is used (no CTE): its value must be known when the statement is planned, or
  // PostgreSQL cannot tell a common word from a rare one and may take the GIN bitmap of a third of the table.
  const tsq = `websearch_to_tsquery('english', ?)`;
  const rows = await query<{ id: string; conversation_id: string; channel: string; direction: string; created_at: Date | string; snippet: string; rank: number }>(em,
    `with candidates as (
       select m.id, m.conversation_id, m.channel, m.direction, m.created_at, m.content, ts_rank_cd(m.search_vector, ${tsq}) as rank
         from "conversations".messages m${scoped ? ` join "conversations".conversations c on c.id = m.conversation_id and c.account_id = m.account_id` : ''}
        where m.account_id = ? and m.search_vector @@ ${tsq}
          ${f.conversationId ? 'and m.conversation_id = ?' : ''}
          ${scoped ? `and c.property_id in (select (jsonb_array_elements_text(?::jsonb))::uuid)` : ''}
        order by m.created_at desc
        limit ${SEARCH_CANDIDATES}),
     best as (
       select * from ${f.groupByConversation ? '(select distinct on (conversation_id) * from candidates order by conversation_id, rank desc, created_at desc) g' : 'candidates'}
        order by rank desc, created_at desc
        limit ?)
     select b.id, b.conversation_id, b.channel, b.direction, b.created_at, b.rank,
            ts_headline('english', b.content, ${tsq}, 'StartSel=[[, StopSel=]], MaxFragments=1, MaxWords=24, MinWords=8') as snippet
       from best b
      order by b.rank desc, b.created_at desc`,
    [f.text, f.accountId, f.text, ...(f.conversationId ? [f.conversationId] : []), ...(scoped ? [JSON.stringify(f.propertyScope)] : []), f.limit, f.text],
  );
  return rows.map((r) => ({
    messageId: r.id, conversationId: r.conversation_id, channel: r.channel, direction: r.direction, createdAt: rowDate(r.created_at), snippet: r.snippet, rank: Number(r.rank),
  }));
}
