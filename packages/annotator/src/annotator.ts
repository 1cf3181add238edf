// The default annotator: offline, deterministic, from the committed model file. One per process is plenty; it
// shares the process's one winkNLP instance.
import { performance } from 'node:perf_hooks';
import type { Annotation, AnnotationInput, Lead } from './annotation.ts';
import { probabilities, vectorize } from './classifier.ts';
import { parseSentAt } from './dates.ts';
import { extractEntities } from './entities.ts';
import { analyze, intentFeature } from './features.ts';
import { type Intent, isIntent, isSentiment, isSeverity, type Language, type Sentiment, type Severity, SEVERITIES_BY_INTENT } from './labels.ts';
import { extractLead } from './lead.ts';
import { loadModel, type LoadedModel } from './model.ts';
import { advise } from './playbook.ts';
import { cleanText, detectLanguage } from './text.ts';

export interface Annotator {
  annotate(input: AnnotationInput): Annotation;
  readonly modelVersion: string;
}

/** A message that cannot be annotated, naming the field that is wrong. */
export class AnnotationInputError extends Error {
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = 'AnnotationInputError';
    this.field = field;
  }
}

/** The input checked field by field (the first wrong one is reported). */
export function validateInput(raw: unknown): AnnotationInput {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new AnnotationInputError('message', 'must be a JSON object');
  const r = raw as Record<string, unknown>;
  for (const field of ['id', 'channel', 'text', 'sent_at'] as const) {
    if (r[field] === undefined || r[field] === null) throw new AnnotationInputError(field, 'is missing');
    if (typeof r[field] !== 'string') throw new AnnotationInputError(field, `must be a string, got ${Array.isArray(r[field]) ? 'array' : typeof r[field]}`);
  }
  const input = { id: r.id as string, channel: r.channel as string, text: r.text as string, sent_at: r.sent_at as string };
  if (!input.id.trim()) throw new AnnotationInputError('id', 'is empty');
  if (!input.channel.trim()) throw new AnnotationInputError('channel', 'is empty');
  if (!parseSentAt(input.sent_at)) throw new AnnotationInputError('sent_at', `is not an ISO 8601 date-time: ${JSON.stringify(input.sent_at.slice(0, 40))}`);
  return input;
}

// Intents whose messages are about an existing problem: what they say is no leasing lead.
const LEAD_INTENTS: Record<Intent, boolean> = {
  how_to_guidance: true,
  account_access_issue: false,
  transaction_system_failure: false,
  bug_technical_defect: false,
  urgent_high_risk: false,
  noise_low_intent: true,
  unknown: true,
};

// The sentiment a label stands for on the [-1, 1] scale, averaged by the model's probabilities.
const SENTIMENT_VALUE: Record<Sentiment, number> = { positive: 0.7, neutral: 0, negative: -0.5, angry: -0.9 };

const round = (n: number, places: number) => Math.round(n * 10 ** places) / 10 ** places;
const clamp = (n: number) => Math.max(-1, Math.min(1, n));

export interface Prepared { clean: string; language: Language }

/** The text the models and extractors read, and its language: the same for training and annotating. */
export function prepareText(channel: string, text: string): Prepared {
  const clean = cleanText(channel, text);
  return { clean, language: detectLanguage(clean) };
}

export function createAnnotator(options: { modelPath?: string } = {}): Annotator {
  const model: LoadedModel = loadModel(options.modelPath);
  const [intentHead, severityHead, sentimentHead] = [model.heads.intent, model.heads.severity, model.heads.sentiment];
  return {
    modelVersion: model.version,
    annotate(raw: AnnotationInput): Annotation {
      const started = performance.now();
      const input = validateInput(raw);
      const ref = parseSentAt(input.sent_at);
      const { clean, language } = prepareText(input.channel, input.text);
      const { features, winkSentiment } = analyze(clean, input.channel, language);
      const x = vectorize(features, model.vocabulary);

      const pIntent = probabilities(intentHead, x);
      const best = pIntent.indexOf(Math.max(...pIntent));
      const intentLabel = intentHead.labels[best]!;
      if (!isIntent(intentLabel)) throw new Error(`model: unknown intent label ${intentLabel}`);
      const intent: Intent = intentLabel;

      // Severity: the model's choice among the severities this intent can carry.
      const pSeverity = probabilities(severityHead, vectorize(features, model.vocabulary, [intentFeature(intent)]));
      const allowed = SEVERITIES_BY_INTENT[intent];
      const candidates = severityHead.labels.map((label, i) => ({ label, p: pSeverity[i]! })).filter((c) => (allowed as readonly string[]).includes(c.label));
      const mass = candidates.reduce((s, c) => s + c.p, 0) || 1;
      const top = candidates.reduce((a, b) => (b.p > a.p ? b : a));
      if (!isSeverity(top.label)) throw new Error(`model: unknown severity label ${top.label}`);
      const severity: Severity = top.label;

      const pSentiment = probabilities(sentimentHead, x);
      const sIndex = pSentiment.indexOf(Math.max(...pSentiment));
      const sentimentLabel = sentimentHead.labels[sIndex]!;
      if (!isSentiment(sentimentLabel)) throw new Error(`model: unknown sentiment label ${sentimentLabel}`);
      const sentiment: Sentiment = sentimentLabel;
      const expected = sentimentHead.labels.reduce((s, label, i) => s + (isSentiment(label) ? SENTIMENT_VALUE[label] : 0) * pSentiment[i]!, 0);
      const score = winkSentiment === undefined ? expected : 0.6 * expected + 0.4 * clamp(winkSentiment);

      const lead: Lead = LEAD_INTENTS[intent] ? extractLead(clean, language, ref) : {};
      const entities = extractEntities(clean, language, ref);
      const advice = advise(intent, severity, language, clean, lead);
      return {
        id: input.id,
        intent,
        intent_confidence: round(pIntent[best]!, 2),
        severity,
        severity_confidence: round(top.p / mass, 2),
        sentiment,
        sentiment_score: round(clamp(score), 3),
        entities,
        lead,
        ...advice,
        escalation_recommended: severity === 'P0' || (severity === 'P1' && sentiment === 'angry'),
        model_version: model.version,
        processing_time_ms: round(performance.now() - started, 3),
      };
    },
  };
}
