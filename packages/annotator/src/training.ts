// Fitting the three heads from labelled messages (scripts/train.ts writes the result as the model file).
import { createHash } from 'node:crypto';
import { trainHead, vectorize, type TrainOptions } from './classifier.ts';
import { prepareText } from './annotator.ts';
import type { LabelledMessage } from './dataset.ts';
import { analyze, type FeatureCounts, intentFeature } from './features.ts';
import { INTENTS, SENTIMENTS, SEVERITIES } from './labels.ts';
import { fromHead, MODEL_FORMAT, type ModelFile } from './model.ts';

export interface FitOptions {
  /** Keep an n-gram feature seen in at least this many training messages (hand features always). */
  minDocs: number;
  intent: TrainOptions;
  severity: TrainOptions;
  sentiment: TrainOptions;
}

// Chosen by 5-fold cross-validation on data/train.jsonl (scripts/train.ts --cv), never on the held-out part.
export const DEFAULT_FIT: FitOptions = {
  minDocs: 2,
  intent: { l2: 1e-3, steps: 300, learningRate: 0.05, balanced: true },
  severity: { l2: 3e-4, steps: 300, learningRate: 0.05, balanced: true },
  sentiment: { l2: 1e-3, steps: 300, learningRate: 0.05, balanced: true },
};

export interface Featurized { row: LabelledMessage; features: FeatureCounts }

export function featurizeAll(rows: LabelledMessage[]): Featurized[] {
  return rows.map((row) => {
    const { clean, language } = prepareText(row.channel, row.text);
    return { row, features: analyze(clean, row.channel, language).features };
  });
}

const isNgram = (name: string) => /^[wbc]:/.test(name);

export function fit(data: Featurized[], opts: FitOptions, meta: { version: string; file: string; sha256: string }): ModelFile {
  const docs = new Map<string, number>();
  for (const { row, features } of data) {
    for (const name of [...features.keys(), intentFeature(row.intent)]) docs.set(name, (docs.get(name) ?? 0) + 1);
  }
  const vocabulary = [...docs].filter(([name, n]) => !isNgram(name) || n >= opts.minDocs).map(([name]) => name).sort();
  const index = new Map(vocabulary.map((name, i) => [name, i]));
  const dims = vocabulary.length;
  const xs = data.map((d) => vectorize(d.features, index));
  const xsSeverity = data.map((d) => vectorize(d.features, index, [intentFeature(d.row.intent)]));
  const intent = trainHead([...INTENTS], xs, data.map((d) => INTENTS.indexOf(d.row.intent)), dims, opts.intent);
  const severity = trainHead([...SEVERITIES], xsSeverity, data.map((d) => SEVERITIES.indexOf(d.row.severity)), dims, opts.severity);
  const sentiment = trainHead([...SENTIMENTS], xs, data.map((d) => SENTIMENTS.indexOf(d.row.sentiment)), dims, opts.sentiment);
  return {
    format: MODEL_FORMAT,
    version: meta.version,
    trained_on: { file: meta.file, messages: data.length, sha256: meta.sha256 },
    options: {
      minDocs: opts.minDocs, steps: opts.intent.steps, learningRate: opts.intent.learningRate, balanced: opts.intent.balanced,
      l2_intent: opts.intent.l2, l2_severity: opts.severity.l2, l2_sentiment: opts.sentiment.l2,
    },
    vocabulary,
    heads: { intent: fromHead(intent, dims), severity: fromHead(severity, dims), sentiment: fromHead(sentiment, dims) },
  };
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
