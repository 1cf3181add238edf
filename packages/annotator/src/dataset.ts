import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lead } from './annotation.ts';
import type { Intent, Language, Sentiment, Severity } from './labels.ts';

/** One labelled message of data/*.jsonl. */
export interface LabelledMessage {
  id: string;
  channel: string;
  language: Language;
  sent_at: string;
  text: string;
  intent: Intent;
  severity: Severity;
  sentiment: Sentiment;
  /** Gold lead fields, when the text states any. */
  lead?: Lead;
  /** The authoring batch (absent: the first). Each batch is split on its own, so adding one moves no earlier message. */
  batch?: number;
}

export const HELDOUT_FRACTION = 0.3;
export const DATA_DIR = join(import.meta.dirname, '..', 'data');

export function loadDataset(part: 'train' | 'heldout'): LabelledMessage[] {
  return readFileSync(join(DATA_DIR, `${part}.jsonl`), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as LabelledMessage);
}

/**
 * The held-out part of a set of labelled messages: 30 % of each stratum (authoring batch, intent, and whether the
 * message carries lead fields), the messages whose id hashes lowest. Fixed and reproducible: scripts/split.ts writes it.
 */
export function heldoutIds(rows: readonly Pick<LabelledMessage, 'id' | 'intent' | 'lead' | 'batch'>[]): Set<string> {
  const strata = new Map<string, string[]>();
  for (const r of rows) {
    const key = `${r.batch ?? 1}/${r.intent}/${r.lead ? 'lead' : 'plain'}`;
    strata.set(key, [...(strata.get(key) ?? []), r.id]);
  }
  const hash = (id: string) => createHash('sha256').update(`annotator-split:${id}`).digest('hex');
  const out = new Set<string>();
  for (const ids of strata.values()) {
    const ordered = [...ids].sort((a, b) => (hash(a) < hash(b) ? -1 : hash(a) > hash(b) ? 1 : 0));
    for (const id of ordered.slice(0, Math.round(ids.length * HELDOUT_FRACTION))) out.add(id);
  }
  return out;
}
