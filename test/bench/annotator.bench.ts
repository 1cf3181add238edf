// `node test/bench/annotator.bench.ts` (also run by `npm run bench`, or alone with `npm run bench -- annotator`): the
// default offline annotator on the held-out labelled messages (packages/annotator/data/heldout.jsonl, never used for
// training), every figure beside a keyword-rule baseline measured on the same messages in the same run. Prints one
// JSON object per line on stdout; asserts nothing. What each line means: packages/annotator/README.md ("Benchmark").
//
// Knobs (environment):
//   ANNOTATOR_BENCH_ROUNDS=20    times the held-out set is annotated for the throughput figure
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createAnnotator } from '../../packages/annotator/src/annotator.ts';
import { baselineAnnotate } from '../../packages/annotator/src/baseline.ts';
import { loadDataset } from '../../packages/annotator/src/dataset.ts';
import { INTENTS } from '../../packages/annotator/src/labels.ts';
import { accuracy, classScores, leadExactMatch } from '../../packages/annotator/src/metrics.ts';
import { MODEL_PATH } from '../../packages/annotator/src/model.ts';
import { LEAD_FIELDS } from '../../packages/annotator/src/annotation.ts';

const ROUNDS = Math.max(1, Number(process.env.ANNOTATOR_BENCH_ROUNDS ?? 20) || 20);
const line = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ bench: 'annotator', ...o })}\n`);
const r3 = (n: number) => Math.round(n * 1000) / 1000;
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

const heldout = loadDataset('heldout');
const train = loadDataset('train');
const inputs = heldout.map((m) => ({ id: m.id, channel: m.channel, text: m.text, sent_at: m.sent_at }));

const rssBefore = process.memoryUsage().rss;
let t = performance.now();
const annotator = createAnnotator();
// The first message loads winkNLP's English model (the process's one instance): part of getting ready.
annotator.annotate({ id: 'warm-up', channel: 'sms', text: 'hello', sent_at: '2025-01-01T12:00:00Z' });
const loadMs = performance.now() - t;
const rssLoaded = process.memoryUsage().rss;

const predicted = inputs.map((i) => annotator.annotate(i));
const baseline = heldout.map((m) => baselineAnnotate(m.text));

line({ metric: 'messages', value: heldout.length, unit: 'count', train: train.length, model_version: annotator.modelVersion });
const gold = heldout.map((m) => m.intent);
const model = classScores(gold, predicted.map((p) => p.intent), INTENTS);
const base = classScores(gold, baseline.map((b) => b.intent), INTENTS);
for (const [k, c] of model.perClass.entries()) {
  const b = base.perClass[k]!;
  line({ metric: 'intent_f1', class: c.label, value: r3(c.f1), precision: r3(c.precision), recall: r3(c.recall), support: c.support, baseline: r3(b.f1), baseline_precision: r3(b.precision), baseline_recall: r3(b.recall) });
}
line({ metric: 'intent_macro_f1', value: r3(model.macroF1), baseline: r3(base.macroF1), target: 0.8 });
line({ metric: 'intent_accuracy', value: r3(accuracy(gold, predicted.map((p) => p.intent))), baseline: r3(accuracy(gold, baseline.map((b) => b.intent))) });
const severity = heldout.map((m) => m.severity);
line({ metric: 'severity_accuracy', value: r3(accuracy(severity, predicted.map((p) => p.severity))), baseline: r3(accuracy(severity, baseline.map((b) => b.severity))), target: 0.8 });
const sentiment = heldout.map((m) => m.sentiment);
line({ metric: 'sentiment_accuracy', value: r3(accuracy(sentiment, predicted.map((p) => p.sentiment))), baseline: r3(accuracy(sentiment, baseline.map((b) => b.sentiment))) });
const goldLeads = heldout.map((m) => m.lead ?? {});
const leadModel = leadExactMatch(goldLeads, predicted.map((p) => p.lead));
const leadBase = leadExactMatch(goldLeads, baseline.map((b) => b.lead));
for (const f of LEAD_FIELDS) {
  const m = leadModel.perField[f];
  const b = leadBase.perField[f];
  line({ metric: 'lead_exact_match', field: f, value: r3(m.right / Math.max(1, m.total)), right: m.right, total: m.total, baseline: r3(b.right / Math.max(1, b.total)), baseline_right: b.right, baseline_total: b.total });
}
line({
  metric: 'lead_exact_match', field: 'all', value: r3(leadModel.right / Math.max(1, leadModel.total)), right: leadModel.right, total: leadModel.total,
  baseline: r3(leadBase.right / Math.max(1, leadBase.total)), baseline_right: leadBase.right, baseline_total: leadBase.total, target: 0.9,
  messages_all_right: leadModel.messagesAllRight, messages: leadModel.messages, baseline_messages_all_right: leadBase.messagesAllRight, baseline_messages: leadBase.messages,
});

t = performance.now();
for (let r = 0; r < ROUNDS; r++) for (const i of inputs) annotator.annotate(i);
const modelRate = (ROUNDS * inputs.length) / ((performance.now() - t) / 1000);
t = performance.now();
for (let r = 0; r < ROUNDS; r++) for (const m of heldout) baselineAnnotate(m.text);
const baseRate = (ROUNDS * inputs.length) / ((performance.now() - t) / 1000);
line({ metric: 'throughput', value: Math.round(modelRate), unit: 'msg/s', baseline: Math.round(baseRate), ratio: r3(modelRate / baseRate), rounds: ROUNDS });
const times = predicted.map((p) => p.processing_time_ms).sort((a, b) => a - b);
line({ metric: 'processing_time_p50', value: times[Math.floor(times.length / 2)], unit: 'ms', p99: times[Math.floor(times.length * 0.99)] });
line({ metric: 'load', value: Math.round(loadMs), unit: 'ms', rss_before: mb(rssBefore), rss_after_load: mb(rssLoaded), rss_after_run: mb(process.memoryUsage().rss), rss_unit: 'MB', model_file_bytes: statSync(MODEL_PATH).size });
