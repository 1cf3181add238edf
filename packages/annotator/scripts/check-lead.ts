// Development aid for the lead rules: runs the lead extractor on data/train.jsonl (never the held-out part) and
// prints every field that differs from the gold labels, then the exact-match rate.
//   node packages/annotator/scripts/check-lead.ts
import { prepareText } from '../src/annotator.ts';
import { parseSentAt } from '../src/dates.ts';
import { loadDataset } from '../src/dataset.ts';
import { extractLead } from '../src/lead.ts';
import { leadExactMatch } from '../src/metrics.ts';
import { LEAD_FIELDS } from '../src/annotation.ts';

const rows = loadDataset('train').filter((r) => ['how_to_guidance', 'unknown', 'noise_low_intent'].includes(r.intent));
const predicted = rows.map((r) => {
  const { clean, language } = prepareText(r.channel, r.text);
  return extractLead(clean, language, parseSentAt(r.sent_at));
});
for (const [i, r] of rows.entries()) {
  const gold = r.lead ?? {};
  const got = predicted[i]!;
  for (const f of LEAD_FIELDS) {
    if (JSON.stringify(gold[f]) !== JSON.stringify(got[f])) {
      process.stdout.write(`${r.id} ${f}: gold ${JSON.stringify(gold[f])}, got ${JSON.stringify(got[f])} | ${r.text.replace(/\s+/g, ' ').slice(0, 140)}\n`);
    }
  }
}
const m = leadExactMatch(rows.map((r) => r.lead ?? {}), predicted);
process.stdout.write(`train lead fields: ${m.right}/${m.total} (${(m.right / m.total).toFixed(3)}); messages all right ${m.messagesAllRight}/${m.messages}\n`);
