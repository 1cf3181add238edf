// Scores used by the benchmark and by training's cross-validation.
import { LEAD_FIELDS, type Lead, type LeadField } from './annotation.ts';

export interface ClassScore { label: string; precision: number; recall: number; f1: number; support: number }

export function classScores(gold: string[], predicted: string[], labels: readonly string[]): { perClass: ClassScore[]; macroF1: number } {
  const perClass = labels.map((label) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const [i, g] of gold.entries()) {
      const p = predicted[i];
      if (p === label && g === label) tp++;
      else if (p === label) fp++;
      else if (g === label) fn++;
    }
    const precision = tp + fp ? tp / (tp + fp) : 0;
    const recall = tp + fn ? tp / (tp + fn) : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support: tp + fn };
  });
  const present = perClass.filter((c) => c.support > 0);
  return { perClass, macroF1: present.reduce((s, c) => s + c.f1, 0) / Math.max(1, present.length) };
}

export function accuracy(gold: string[], predicted: string[]): number {
  return gold.length ? gold.filter((g, i) => g === predicted[i]).length / gold.length : 0;
}

/**
 * Lead fields right per field and overall. A (message, field) pair counts when gold or prediction states the field;
 * it is right when both are equal (so a field predicted on a message whose gold does not state it is wrong).
 */
export function leadExactMatch(gold: Lead[], predicted: Lead[]): { perField: Record<LeadField, { right: number; total: number }>; right: number; total: number; messagesAllRight: number; messages: number } {
  const perField = Object.fromEntries(LEAD_FIELDS.map((f) => [f, { right: 0, total: 0 }])) as Record<LeadField, { right: number; total: number }>;
  let right = 0;
  let total = 0;
  let messagesAllRight = 0;
  let messages = 0;
  for (const [i, g] of gold.entries()) {
    const p = predicted[i] ?? {};
    let counted = false;
    let allRight = true;
    for (const f of LEAD_FIELDS) {
      if (g[f] === undefined && p[f] === undefined) continue;
      counted = true;
      const ok = JSON.stringify(g[f]) === JSON.stringify(p[f]);
      perField[f].total++;
      total++;
      if (ok) {
        perField[f].right++;
        right++;
      } else allRight = false;
    }
    if (counted) {
      messages++;
      if (allRight) messagesAllRight++;
    }
  }
  return { perField, right, total, messagesAllRight, messages };
}
