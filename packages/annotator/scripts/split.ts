// Splits the labelled messages into data/train.jsonl and data/heldout.jsonl (heldoutIds: stratified by intent and
// lead fields, 30 % held out by a hash of the id). Run on the two committed files it rewrites them unchanged.
//   node packages/annotator/scripts/split.ts [source.jsonl ...]     (default: data/train.jsonl data/heldout.jsonl)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_DIR, heldoutIds, type LabelledMessage } from '../src/dataset.ts';

const sources = process.argv.length > 2 ? process.argv.slice(2) : [join(DATA_DIR, 'train.jsonl'), join(DATA_DIR, 'heldout.jsonl')];
const rows = new Map<string, { row: LabelledMessage; line: string }>();
for (const file of sources) {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as LabelledMessage;
    rows.set(row.id, { row, line });
  }
}
const heldout = heldoutIds([...rows.values()].map((r) => r.row));
const byId = [...rows.values()].sort((a, b) => (a.row.id < b.row.id ? -1 : 1));
const write = (name: string, keep: (id: string) => boolean) =>
  writeFileSync(join(DATA_DIR, name), byId.filter((r) => keep(r.row.id)).map((r) => r.line).join('\n') + '\n');
write('train.jsonl', (id) => !heldout.has(id));
write('heldout.jsonl', (id) => heldout.has(id));
process.stderr.write(`${rows.size} messages: ${rows.size - heldout.size} train, ${heldout.size} held out\n`);
