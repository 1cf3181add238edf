// What the connector's entity files share: the seeds repeat these columns and check lists table after table.
import { p } from '@mikro-orm/core';

/** A JSONB column's value: an object or a list. */
export type JsonDocument = Record<string, unknown> | unknown[];

export const createdAt = () => p.datetime().defaultRaw('now()').onCreate(() => new Date());
export const updatedAt = () => p.datetime().defaultRaw('now()').onCreate(() => new Date());

export const SYNC_DIRECTIONS = `('to_resman', 'from_resman', 'bidirectional')`;
