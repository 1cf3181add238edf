import { describe, expect, it } from 'vitest';
import { parseSentAt } from '../src/dates.ts';
import { extractLead } from '../src/lead.ts';
import { detectLanguage } from '../src/text.ts';

// Friday 7 March 2025, 18:20 local (UTC-6).
const FRIDAY = '2025-03-07T18:20:00-06:00';
const lead = (text: string, sentAt = FRIDAY) => extractLead(text, detectLanguage(text), parseSentAt(sentAt));

describe('extractLead: dates against sent_at', () => {
  it('resolves "next month" to the month alone', () => {
    expect(lead('looking for a studio, moving next month').move_in).toBe('2025-04');
  });

  it('gives a month alone as yyyy-mm, next year when the month has passed', () => {
    expect(lead('need a 1 bedroom for June').move_in).toBe('2025-06');
    expect(lead('need a 1 bedroom for february').move_in).toBe('2026-02');
    expect(lead('we want to move in at the end of july').move_in).toBe('2025-07');
  });

  it('resolves a day without a year forward', () => {
    expect(lead('hi do u have a 2br available for march 1st?').move_in).toBe('2026-03-01');
    expect(lead('moving April 15, 2 bed').move_in).toBe('2025-04-15');
    expect(lead('moving in 2 weeks').move_in).toBe('2025-03-21');
  });

  it('omits a move-in said as ASAP', () => {
    expect(lead('need a 1br asap').move_in).toBeUndefined();
    expect(lead('need a 1br asap')).toEqual({ bedrooms: 1 });
  });

  it('reads a tour time against the sent date, in local time', () => {
    expect(lead('can i tour saturday at 11am?')).toEqual({ tour_requested: true, tour_time: '2025-03-08T11:00' });
    expect(lead('Can I come see it tomorrow at 2pm?')).toEqual({ tour_requested: true, tour_time: '2025-03-08T14:00' });
    // "at 4" for a tour is the afternoon; a time alone that has passed today is tomorrow's.
    expect(lead('could i see the studio monday at 4').tour_time).toBe('2025-03-10T16:00');
    expect(lead('can I come look at it at 10').tour_time).toBe('2025-03-08T10:00');
  });

  it('asks for a tour without a time: tour_requested only', () => {
    expect(lead('Can we tour Saturday morning?')).toEqual({ tour_requested: true });
  });

  it('does not take the lease end or the tour day for the move-in', () => {
    const l = lead('Our current lease ends March 31, so we would like to move in April 1st. Could we see a unit this Saturday at 11 am?', '2025-02-19T07:58:00-06:00');
    expect(l.move_in).toBe('2025-04-01');
    expect(l.tour_time).toBe('2025-02-22T11:00');
  });
});

describe('extractLead: rooms, budget, pets, occupants', () => {
  it('reads bedrooms and bathrooms written many ways', () => {
    expect(lead('2br 1ba?')).toMatchObject({ bedrooms: 2, bathrooms: 1 });
    expect(lead('a two bedroom, two bath apartment')).toMatchObject({ bedrooms: 2, bathrooms: 2 });
    expect(lead('the 2 bedroom 1.5 bath townhome')).toMatchObject({ bedrooms: 2, bathrooms: 1.5 });
    expect(lead('do you have studios?')).toEqual({ bedrooms: 0 });
    expect(lead('is the 1x1 still available?')).toMatchObject({ bedrooms: 1, bathrooms: 1 });
  });

  it('reads the budget ceiling as a number', () => {
    expect(lead('2br under $1800').budget_max).toBe(1800);
    expect(lead('max 1,500 a month').budget_max).toBe(1500);
    expect(lead('budget is between $1,900 and $2,300').budget_max).toBe(2300);
    expect(lead('my budget is around fifteen hundred').budget_max).toBe(1500);
    // An amount with no budget cue is not a budget.
    expect(lead('I paid $1,250 yesterday').budget_max).toBeUndefined();
  });

  it('counts pets by type', () => {
    expect(lead('we have 2 dogs').pets).toEqual([{ type: 'dog', count: 2 }]);
    expect(lead('I have a cat').pets).toEqual([{ type: 'cat', count: 1 }]);
    expect(lead('we have a dog and two cats').pets).toEqual([{ type: 'dog', count: 1 }, { type: 'cat', count: 2 }]);
    // Asking about the policy is not having one.
    expect(lead('do you allow dogs? looking for a 2 bed').pets).toBeUndefined();
    expect(lead('no pets, 2 people').pets).toBeUndefined();
  });

  it('counts occupants from a group or a number', () => {
    expect(lead('me and my wife').occupants).toBe(2);
    expect(lead('My husband and I are relocating').occupants).toBe(2);
    expect(lead('3 people, no pets').occupants).toBe(3);
    expect(lead('me, my partner and our 2 kids').occupants).toBe(4);
    expect(lead('it will just be me').occupants).toBe(1);
    expect(lead('we are a family of four').occupants).toBe(4);
  });

  it('states nothing it was not told', () => {
    expect(lead('whats the wifi password for the clubhouse')).toEqual({});
    expect(lead('what are the pool hours?')).toEqual({});
  });
});

describe('extractLead: Spanish', () => {
  it('reads a Spanish inquiry', () => {
    expect(lead('Hola, busco un departamento de 2 recámaras para el 15 de marzo. Somos 3 y tengo un perro. Hasta 1200 dólares')).toEqual({
      bedrooms: 2, move_in: '2025-03-15', occupants: 3, pets: [{ type: 'dog', count: 1 }], budget_max: 1200,
    });
  });

  it('reads Spanish number words, months and tour times', () => {
    expect(lead('mi esposa y yo queremos una recámara para abril')).toEqual({ occupants: 2, bedrooms: 1, move_in: '2025-04' });
    expect(lead('tengo dos gatos, mi presupuesto es hasta mil cuatrocientos').pets).toEqual([{ type: 'cat', count: 2 }]);
    expect(lead('tengo dos gatos, mi presupuesto es hasta mil cuatrocientos').budget_max).toBe(1400);
    expect(lead('¿puedo ir a verlo mañana a las 5?')).toEqual({ tour_requested: true, tour_time: '2025-03-08T17:00' });
    expect(lead('nos mudamos el primero de mayo').move_in).toBe('2025-05-01');
  });
});
