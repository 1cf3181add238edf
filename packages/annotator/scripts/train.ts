// Trains the annotator's model from data/train.jsonl only (never the held-out part) and writes
// model/annotator-model.json. Deterministic: the same data gives the same file.
//   node packages/annotator/scripts/train.ts          train and write the model
//   node packages/annotator/scripts/train.ts --cv     also 5-fold cross-validation on train.jsonl (per l2 setting)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAnnotator } from '../src/annotator.ts';
import { DATA_DIR, loadDataset } from '../src/dataset.ts';
import { INTENTS } from '../src/labels.ts';
import { accuracy, classScores } from '../src/metrics.ts';
import { MODEL_PATH } from '../src/model.ts';
import { DEFAULT_FIT, featurizeAll, fit, type FitOptions, sha256 } from '../src/training.ts';

const trainFile = join(DATA_DIR, 'train.jsonl');
const rows = loadDataset('train');
const digest = sha256(readFileSync(trainFile, 'utf8'));
const data = featurizeAll(rows);
const log = (msg: string) => process.stderr.write(`${msg}\n`);

function crossValidate(opts: FitOptions, folds = 5) {
  // Stratified by intent: every fifth message of each intent (in id order) goes to the same fold.
  const fold = new Map<string, number>();
  for (const intent of INTENTS) rows.filter((r) => r.intent === intent).forEach((r, i) => fold.set(r.id, i % folds));
  const gold = { intent: [] as string[], severity: [] as string[], sentiment: [] as string[] };
  const pred = { intent: [] as string[], severity: [] as string[], sentiment: [] as string[] };
  for (let k = 0; k < folds; k++) {
    const model = fit(data.filter((d) => fold.get(d.row.id) !== k), opts, { version: 'cv', file: 'cv', sha256: '' });
    const path = join(process.env.TMPDIR ?? '/tmp', `annotator-cv-${process.pid}.json`);
    writeFileSync(path, JSON.stringify(model));
    const annotator = createAnnotator({ modelPath: path });
    for (const d of data.filter((x) => fold.get(x.row.id) === k)) {
      const a = annotator.annotate({ id: d.row.id, channel: d.row.channel, text: d.row.text, sent_at: d.row.sent_at });
      gold.intent.push(d.row.intent);
      pred.intent.push(a.intent);
      gold.severity.push(d.row.severity);
      pred.severity.push(a.severity);
      gold.sentiment.push(d.row.sentiment);
      pred.sentiment.push(a.sentiment);
    }
  }
  return { intentMacroF1: classScores(gold.intent, pred.intent, INTENTS).macroF1, severity: accuracy(gold.severity, pred.severity), sentiment: accuracy(gold.sentiment, pred.sentiment) };
}

if (process.argv.includes('--cv')) {
  const report = (name: string, opts: FitOptions) => {
    const r = crossValidate(opts);
    log(`cv ${name}: intent macro-F1 ${r.intentMacroF1.toFixed(3)}, severity ${r.severity.toFixed(3)}, sentiment ${r.sentiment.toFixed(3)}`);
  };
  report('default', DEFAULT_FIT);
  for (const l2 of [1e-4, 1e-3, 1e-2]) {
    report(`all heads l2=${l2}`, { ...DEFAULT_FIT, intent: { ...DEFAULT_FIT.intent, l2 }, severity: { ...DEFAULT_FIT.severity, l2 }, sentiment: { ...DEFAULT_FIT.sentiment, l2 } });
  }
}

const version = `lr-1-${digest.slice(0, 8)}`;
const model = fit(data, DEFAULT_FIT, { version, file: 'data/train.jsonl', sha256: digest });
writeFileSync(MODEL_PATH, `${JSON.stringify(model)}\n`);
log(`wrote ${MODEL_PATH}: ${model.vocabulary.length} features, ${rows.length} training messages, version ${version}`);
