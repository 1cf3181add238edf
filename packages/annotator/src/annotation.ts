import type { Intent, Sentiment, Severity } from './labels.ts';

export interface AnnotationInput {
  id: string;
  channel: string;
  text: string;
  /** ISO 8601 with an offset (or Z); relative dates in the text resolve against its local date and time. */
  sent_at: string;
}

export interface Pet { type: string; count: number }

/** Only the fields the message states. */
export interface Lead {
  bedrooms?: number;
  bathrooms?: number;
  /** yyyy-mm-dd, or yyyy-mm when only the month is stated. */
  move_in?: string;
  pets?: Pet[];
  budget_max?: number;
  occupants?: number;
  tour_requested?: boolean;
  /** Local time, no offset: yyyy-mm-ddThh:mm. */
  tour_time?: string;
}
export const LEAD_FIELDS = ['bedrooms', 'bathrooms', 'move_in', 'pets', 'budget_max', 'occupants', 'tour_requested', 'tour_time'] as const;
export type LeadField = (typeof LEAD_FIELDS)[number];

export interface Entities {
  transaction_ids: string[];
  error_codes: string[];
  /** As written, e.g. "$1,250.00". */
  money: string[];
  /** yyyy-mm-dd. */
  dates: string[];
  unit_numbers: string[];
  product_names: string[];
}

export interface Annotation {
  id: string;
  intent: Intent;
  intent_confidence: number;
  severity: Severity;
  severity_confidence: number;
  sentiment: Sentiment;
  sentiment_score: number;
  entities: Entities;
  lead: Lead;
  suspected_root_cause: string | null;
  suggested_action: string | null;
  suggested_reply: string | null;
  suggested_skills: string[];
  escalation_recommended: boolean;
  model_version: string;
  processing_time_ms: number;
}
