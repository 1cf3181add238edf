// A keyword-rule annotator: the benchmark's baseline. First matching rule wins; no model, no context.
import type { Lead } from './annotation.ts';
import type { Intent, Sentiment, Severity } from './labels.ts';
import { fold } from './text.ts';

const INTENT_RULES: [Intent, RegExp][] = [
  ['urgent_high_risk', /\b(gas|fire|smoke|flood\w*|no heat|break-?in|broke into|police|911|threat\w*|fraud|identity|scam|breach|lawyer|attorney|sue|lawsuit|elevator|emergency|inund\w*|humo|incendio|fraude|abogado|urgente)\b/],
  ['account_access_issue', /\b(log ?in|login|password|locked|verification code|reset|sign in|contrasena|bloquead\w*|iniciar sesion)\b/],
  ['transaction_system_failure', /\b(charged|declined|refund|double|twice|late fee|deposit|autopay|cobraron|recargo|reembolso|deposito)\b/],
  ['bug_technical_defect', /\b(error|crash\w*|bug|blank|not loading|won'?t load|glitch|freez\w*|se cierra)\b/],
  ['noise_low_intent', /^\W*(ok|okay|k|thanks?|thank you|thx|ty|hi|hello|hey|yes|stop|gracias|hola|ok gracias)\W*$|wrong number|numero equivocado|out of the office|auto-?reply|unsubscribe/],
  ['how_to_guidance', /\b(how|what|when|where|can i|do you|available|tour|bedroom|studio|rent|apply|como|cuanto|donde|recamara\w*|disponible)\b|\?/],
];

const SEVERITY: Record<Intent, Severity> = {
  urgent_high_risk: 'P0',
  transaction_system_failure: 'P1',
  account_access_issue: 'P1',
  bug_technical_defect: 'P2',
  how_to_guidance: 'P3',
  noise_low_intent: 'P3',
  unknown: 'P3',
};

export interface BaselineAnnotation { intent: Intent; severity: Severity; sentiment: Sentiment; lead: Lead }

export function baselineAnnotate(text: string): BaselineAnnotation {
  const t = fold(text);
  const intent = INTENT_RULES.find(([, re]) => re.test(t))?.[0] ?? 'unknown';
  let sentiment: Sentiment = 'neutral';
  if (/!!|\b[A-Z]{4,}\b.*\b[A-Z]{4,}\b|\b(ridiculous|unacceptable|worst|garbage|lawyer|sue)\b/.test(text)) sentiment = 'angry';
  else if (/\b(not|never|still|again|can'?t|cannot|won'?t|problem|wrong|broken|no puedo|no me)\b/.test(t)) sentiment = 'negative';
  else if (/\b(thanks?|thank you|great|love|awesome|gracias)\b/.test(t)) sentiment = 'positive';
  const lead: Lead = {};
  const br = /\b(\d)\s*(br|bed|bedroom)/.exec(t);
  if (br) lead.bedrooms = Number(br[1]);
  else if (/\bstudio\b/.test(t)) lead.bedrooms = 0;
  const ba = /\b(\d(?:\.5)?)\s*(ba|bath|bathroom)/.exec(t);
  if (ba) lead.bathrooms = Number(ba[1]);
  const budget = /\$?(\d{1,2},?\d{3})\b/.exec(t);
  if (budget && /\b(budget|under|max|up to)\b/.test(t)) lead.budget_max = Number(budget[1]!.replace(',', ''));
  const dog = /\b(\d|a|one)\s+(dogs?|perros?)\b/.exec(t);
  const cat = /\b(\d|a|one)\s+(cats?|gatos?)\b/.exec(t);
  const pets = [dog && { type: 'dog', count: /\d/.test(dog[1]!) ? Number(dog[1]) : 1 }, cat && { type: 'cat', count: /\d/.test(cat[1]!) ? Number(cat[1]) : 1 }].filter((p) => !!p);
  if (pets.length) lead.pets = pets;
  const people = /\b(\d)\s+(people|persons|personas)\b/.exec(t);
  if (people) lead.occupants = Number(people[1]);
  if (/\b(tour|visit|showing)\b/.test(t)) lead.tour_requested = true;
  return { intent, severity: SEVERITY[intent], sentiment, lead };
}
