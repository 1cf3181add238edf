import { describe, expect, it } from 'vitest';
import { LEAD_FIELDS } from '../src/annotation.ts';
import { heldoutIds, loadDataset } from '../src/dataset.ts';
import { CHANNELS, INTENTS, SENTIMENTS, SEVERITIES, SEVERITIES_BY_INTENT } from '../src/labels.ts';
import { loadModel } from '../src/model.ts';

const train = loadDataset('train');
const heldout = loadDataset('heldout');
const all = [...train, ...heldout];
const normalized = (t: string) => t.toLowerCase().replace(/\s+/g, ' ').trim();

describe('labelled set', () => {
  it('has at least 400 messages covering every label, channel and both languages', () => {
    expect(all.length).toBeGreaterThanOrEqual(400);
    for (const intent of INTENTS) expect(all.filter((m) => m.intent === intent).length, intent).toBeGreaterThanOrEqual(30);
    for (const severity of SEVERITIES) expect(all.some((m) => m.severity === severity), severity).toBe(true);
    for (const sentiment of SENTIMENTS) expect(all.filter((m) => m.sentiment === sentiment).length, sentiment).toBeGreaterThanOrEqual(15);
    for (const channel of CHANNELS) expect(all.filter((m) => m.channel === channel).length, channel).toBeGreaterThanOrEqual(40);
    const spanish = all.filter((m) => m.language === 'es').length / all.length;
    expect(spanish).toBeGreaterThanOrEqual(0.15);
    expect(spanish).toBeLessThanOrEqual(0.2);
    expect(all.filter((m) => m.lead && Object.keys(m.lead).length > 0).length).toBeGreaterThanOrEqual(80);
  });

  it('labels severities the guide allows for each intent, and only known lead fields', () => {
    for (const m of all) {
      expect(SEVERITIES_BY_INTENT[m.intent], m.id).toContain(m.severity);
      for (const key of Object.keys(m.lead ?? {})) expect(LEAD_FIELDS as readonly string[], `${m.id} ${key}`).toContain(key);
      expect(m.sent_at, m.id).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    }
  });

  it('holds out no message that is also in train, by id or by text', () => {
    const trainIds = new Set(train.map((m) => m.id));
    const trainTexts = new Set(train.map((m) => normalized(m.text)));
    for (const m of heldout) {
      expect(trainIds.has(m.id), m.id).toBe(false);
      expect(trainTexts.has(normalized(m.text)), m.id).toBe(false);
    }
    expect(new Set(all.map((m) => normalized(m.text))).size).toBe(all.length);
  });

  it('is the committed fixed split: about 30 % of each intent held out', () => {
    expect(heldoutIds(all)).toEqual(new Set(heldout.map((m) => m.id)));
    for (const intent of INTENTS) {
      const share = heldout.filter((m) => m.intent === intent).length / all.filter((m) => m.intent === intent).length;
      expect(share, intent).toBeGreaterThan(0.25);
      expect(share, intent).toBeLessThan(0.35);
    }
  });
});

describe('committed model', () => {
  it('loads, with the three heads over one vocabulary', () => {
    const model = loadModel();
    expect(model.version).toMatch(/^lr-1-[0-9a-f]{8}$/);
    expect(model.vocabulary.size).toBeGreaterThan(1000);
    expect(model.heads.intent.labels).toEqual([...INTENTS]);
    expect(model.heads.severity.labels).toEqual([...SEVERITIES]);
    expect(model.heads.sentiment.labels).toEqual([...SENTIMENTS]);
    expect(model.heads.intent.weights.length).toBe(model.vocabulary.size * INTENTS.length);
  });
});
