import { describe, expect, it } from 'vitest';
import { AnnotationInputError, createAnnotator } from '../src/index.ts';
import { fit, featurizeAll } from '../src/training.ts';
import { loadDataset } from '../src/dataset.ts';

const annotator = createAnnotator();
const annotate = (text: string, channel = 'sms', sent_at = '2025-03-07T18:20:00-06:00') => annotator.annotate({ id: 'x1', channel, text, sent_at });

describe('createAnnotator', () => {
  it('annotates a message with every field in range', () => {
    const a = annotate('WHY CANT I LOG IN. its the 1st and rent is due, i will get a late fee. fix your portal!!!');
    expect(a.id).toBe('x1');
    expect(a.intent).toBe('account_access_issue');
    expect(a.intent_confidence).toBeGreaterThan(0);
    expect(a.intent_confidence).toBeLessThanOrEqual(1);
    expect(Math.round(a.intent_confidence * 100)).toBe(a.intent_confidence * 100);
    expect(a.sentiment).toBe('angry');
    expect(a.sentiment_score).toBeLessThan(0);
    expect(a.sentiment_score).toBeGreaterThanOrEqual(-1);
    expect(a.model_version).toBe(annotator.modelVersion);
    expect(a.processing_time_ms).toBeGreaterThanOrEqual(0);
    expect(a.entities.product_names).toContain('resident portal');
    expect(a.suggested_skills).toEqual(['account_access']);
    expect(a.lead).toEqual({});
  });

  it('escalates safety risks as P0 with an emergency reply', () => {
    const a = annotate('strong gas smell in the hallway outside unit 3B. should we leave?');
    expect(a).toMatchObject({ intent: 'urgent_high_risk', severity: 'P0', escalation_recommended: true, suspected_root_cause: 'possible gas leak or carbon monoxide' });
    expect(a.entities.unit_numbers).toEqual(['3B']);
    expect(a.suggested_reply).toMatch(/911/);
  });

  it('routes payment failures to payments with a root cause', () => {
    const a = annotate('i was charged twice for rent, $1,310.00 each, conf #A1B2C3 and A1B2D9');
    expect(a.intent).toBe('transaction_system_failure');
    expect(a.suggested_skills).toContain('payments');
    expect(a.suspected_root_cause).toBe('duplicate payment submission or processor retry');
    expect(a.entities.transaction_ids).toEqual(['A1B2C3', 'A1B2D9']);
  });

  it('answers a Spanish lead in Spanish and routes it to leasing', () => {
    const a = annotate('Hola, quiero ver el departamento de 2 recámaras el sábado a las 11. Somos 3.', 'whatsapp');
    expect(a.intent).toBe('how_to_guidance');
    expect(a.lead).toEqual({ bedrooms: 2, tour_requested: true, tour_time: '2025-03-08T11:00', occupants: 3 });
    expect(a.suggested_skills).toEqual(['leasing']);
    expect(a.suggested_reply).toMatch(/Gracias/);
  });

  it('treats greetings and thanks as noise that needs no reply', () => {
    const a = annotate('thanks!! 🙏');
    expect(a).toMatchObject({ intent: 'noise_low_intent', severity: 'P3', suggested_reply: null, escalation_recommended: false, suggested_skills: [] });
  });

  it('classifies the email, not the quoted text below it', () => {
    const email = 'Hi,\n\nThanks for the quick reply, all good now!\n\nBest,\nLaura\n\nOn Mon, Mar 3, 2025 at 9:00 AM Leasing <l@x.com> wrote:\n> Your payment failed with error E1023 and you were charged a late fee.\n> Our portal is down.';
    const a = annotate(email, 'email');
    expect(a.intent).toBe('noise_low_intent');
    expect(a.entities.error_codes).toEqual([]);
  });

  it('tells the intents apart on short, plain messages', () => {
    expect(annotate('my payment failed').intent).toBe('transaction_system_failure');
    expect(annotate('I was charged a late fee but I paid on time').intent).toBe('transaction_system_failure');
    expect(annotate('how do I reset my password?').intent).toBe('account_access_issue');
    expect(annotate('the app keeps crashing').intent).toBe('bug_technical_defect');
    expect(annotate('how do i pay rent online').intent).toBe('how_to_guidance');
    expect(annotate('there is a fire in the building').severity).toBe('P0');
    expect(annotate('ok thanks').intent).toBe('noise_low_intent');
    expect(annotate('whats the weather like').intent).toBe('unknown');
  });

  it('is deterministic', () => {
    const text = 'my autopay did not run and now there is a $75 late fee';
    const { processing_time_ms: _a, ...first } = annotate(text);
    const { processing_time_ms: _b, ...second } = createAnnotator().annotate({ id: 'x1', channel: 'sms', text, sent_at: '2025-03-07T18:20:00-06:00' });
    expect(second).toEqual(first);
  });

  it('rejects input with a wrong field, naming it', () => {
    expect(() => annotator.annotate({ id: 'x', channel: 'sms', text: 'hi', sent_at: 'soon' })).toThrow(AnnotationInputError);
    expect(() => annotator.annotate({ id: 'x', channel: 'sms', text: 'hi', sent_at: 'soon' })).toThrow(/^sent_at: /);
  });
});

describe('training', () => {
  it('gives the same weights for the same data', () => {
    const data = featurizeAll(loadDataset('train').slice(0, 40));
    const opts = { minDocs: 1, intent: { l2: 1e-3, steps: 20, learningRate: 0.05, balanced: true }, severity: { l2: 1e-3, steps: 20, learningRate: 0.05, balanced: true }, sentiment: { l2: 1e-3, steps: 20, learningRate: 0.05, balanced: true } };
    const meta = { version: 't', file: 't', sha256: '' };
    expect(JSON.stringify(fit(data, opts, meta))).toBe(JSON.stringify(fit(data, opts, meta)));
  });
});
