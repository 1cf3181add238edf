// The committed model file (model/annotator-model.json): the vocabulary and the three linear heads.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LinearHead } from './classifier.ts';

export const MODEL_PATH = join(import.meta.dirname, '..', 'model', 'annotator-model.json');
export const MODEL_FORMAT = 'domiq-annotator-linear/1';
export const HEADS = ['intent', 'severity', 'sentiment'] as const;
export type HeadName = (typeof HEADS)[number];

export interface ModelFile {
  format: typeof MODEL_FORMAT;
  version: string;
  trained_on: { file: string; messages: number; sha256: string };
  options: Record<string, number | boolean | string>;
  vocabulary: string[];
  /** Per head: its labels, a bias per label and, per label, a weight per vocabulary entry. */
  heads: Record<HeadName, { labels: string[]; bias: number[]; weights: number[][] }>;
}

export interface LoadedModel {
  version: string;
  vocabulary: Map<string, number>;
  heads: Record<HeadName, LinearHead>;
}

export function toHead(h: ModelFile['heads'][HeadName], dims: number): LinearHead {
  const k = h.labels.length;
  const weights = new Float64Array(dims * k);
  for (let c = 0; c < k; c++) {
    const row = h.weights[c]!;
    if (row.length !== dims) throw new Error(`model: head weights of ${h.labels[c]} have ${row.length} entries, vocabulary has ${dims}`);
    for (let i = 0; i < dims; i++) weights[i * k + c] = row[i]!;
  }
  return { labels: h.labels, bias: h.bias, weights };
}

export function loadModel(path = MODEL_PATH): LoadedModel {
  const file = JSON.parse(readFileSync(path, 'utf8')) as ModelFile;
  if (file.format !== MODEL_FORMAT) throw new Error(`model: ${path} has format ${String(file.format)}, expected ${MODEL_FORMAT}`);
  const dims = file.vocabulary.length;
  return {
    version: file.version,
    vocabulary: new Map(file.vocabulary.map((name, i) => [name, i])),
    heads: { intent: toHead(file.heads.intent, dims), severity: toHead(file.heads.severity, dims), sentiment: toHead(file.heads.sentiment, dims) },
  };
}

/** A head in the file's layout, weights rounded (4 decimals keep the predictions and shrink the file). */
export function fromHead(head: LinearHead, dims: number): ModelFile['heads'][HeadName] {
  const k = head.labels.length;
  const r = (v: number) => Math.round(v * 1e4) / 1e4 || 0;
  return {
    labels: head.labels,
    bias: head.bias.map(r),
    weights: head.labels.map((_, c) => Array.from({ length: dims }, (_, i) => r(head.weights[i * k + c]!))),
  };
}
