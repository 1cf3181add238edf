import { describe, expect, it } from 'vitest';
import { parseSentAt } from '../src/dates.ts';
import { extractEntities } from '../src/entities.ts';

const ref = parseSentAt('2025-03-04T10:00:00-05:00');
const entities = (text: string, language: 'en' | 'es' = 'en') => extractEntities(text, language, ref);

describe('extractEntities', () => {
  it('finds transaction ids with a prefix or after a cue', () => {
    expect(entities('my payment TXN-48213 was declined').transaction_ids).toEqual(['TXN-48213']);
    expect(entities('I have conf #A1B2C3 for it').transaction_ids).toEqual(['A1B2C3']);
    expect(entities('confirmation numbers A1B2C3 and A1B2D9').transaction_ids).toEqual(['A1B2C3', 'A1B2D9']);
    expect(entities('ref 7781-2210 never posted').transaction_ids).toEqual(['7781-2210']);
    expect(entities('Transaction TX-20250702-8841.').transaction_ids).toEqual(['TX-20250702-8841']);
    // A spoken confirmation number, digit by digit.
    expect(entities('the confirmation number is eight eight three two one zero four seven').transaction_ids).toEqual(['88321047']);
  });

  it('finds error codes', () => {
    expect(entities('Payment failed - error E1023').error_codes).toEqual(['E1023']);
    expect(entities('getting error 500 when i click pay now').error_codes).toEqual(['500']);
    expect(entities('Something went wrong (code 4012)').error_codes).toEqual(['4012']);
    expect(entities('I get E2207 every time').error_codes).toEqual(['E2207']);
    expect(entities('my rent is $1,500').error_codes).toEqual([]);
  });

  it('keeps money as written', () => {
    expect(entities('charged $1,250.00 and then $35 again').money).toEqual(['$1,250.00', '$35']);
    expect(entities('me cobraron 1200 dólares', 'es').money).toEqual(['1200 dólares']);
    expect(entities('TXN-48213 for unit 4B').money).toEqual([]);
  });

  it('finds unit numbers', () => {
    expect(entities('water is leaking in unit 4B').unit_numbers).toEqual(['4B']);
    expect(entities('apt 12, the sink').unit_numbers).toEqual(['12']);
    expect(entities('Apartment 305 and the guy in 4D').unit_numbers).toEqual(['305', '4D']);
    expect(entities('el depto 3B', 'es').unit_numbers).toEqual(['3B']);
  });

  it('resolves dates to ISO days against sent_at (past dates stay in the past)', () => {
    expect(entities('I paid on March 1 and again yesterday').dates).toEqual(['2025-03-01', '2025-03-03']);
    expect(entities('debited on 9/1 and 9/2').dates).toEqual(['2025-09-01', '2025-09-02']);
    expect(entities('pagué el 1 de marzo', 'es').dates).toEqual(['2025-03-01']);
  });

  it('names the products involved', () => {
    expect(entities('the resident portal and the mobile app both fail; autopay is off in ResMan').product_names).toEqual(['ResMan', 'resident portal', 'mobile app', 'autopay']);
    expect(entities('el portal de residentes no carga', 'es').product_names).toEqual(['resident portal']);
  });
});
