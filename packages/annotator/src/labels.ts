// The annotation vocabularies. Every decision per value is an exhaustive Record over these, so adding a label fails
// the type check wherever a decision is missing.
export const INTENTS = [
  'how_to_guidance', 'account_access_issue', 'transaction_system_failure', 'bug_technical_defect', 'urgent_high_risk',
  'noise_low_intent', 'unknown',
] as const;
export type Intent = (typeof INTENTS)[number];

export const SEVERITIES = ['P0', 'P1', 'P2', 'P3'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const SENTIMENTS = ['positive', 'neutral', 'negative', 'angry'] as const;
export type Sentiment = (typeof SENTIMENTS)[number];

export const CHANNELS = ['sms', 'email', 'web_chat', 'voice', 'whatsapp'] as const;
export type Language = 'en' | 'es';

/**
 * The severities each intent can carry (the labelling guide): safety, security and legal risk is always P0; noise
 * and unclear messages never block anyone; a question is P3 unless it reports a routine problem (a maintenance request).
 */
export const SEVERITIES_BY_INTENT: Record<Intent, readonly Severity[]> = {
  how_to_guidance: ['P2', 'P3'],
  account_access_issue: ['P0', 'P1', 'P2'],
  transaction_system_failure: ['P0', 'P1', 'P2'],
  bug_technical_defect: ['P0', 'P1', 'P2'],
  urgent_high_risk: ['P0'],
  noise_low_intent: ['P3'],
  unknown: ['P3'],
};

export const isIntent = (v: string): v is Intent => (INTENTS as readonly string[]).includes(v);
export const isSeverity = (v: string): v is Severity => (SEVERITIES as readonly string[]).includes(v);
export const isSentiment = (v: string): v is Sentiment => (SENTIMENTS as readonly string[]).includes(v);
