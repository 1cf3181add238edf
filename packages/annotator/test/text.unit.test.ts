import { describe, expect, it } from 'vitest';
import { cleanText, detectLanguage, stripEmail, stripVoice } from '../src/text.ts';

describe('stripEmail', () => {
  it('drops the quoted reply after "On ... wrote:" and the device signature', () => {
    const email = [
      'Hi,', '', 'My autopay did not run this month.', '', 'Thanks,', 'John', '', 'Sent from my iPhone', '',
      'On Mon, Jul 21, 2025 at 4:12 PM Maple Court Leasing <leasing@maplecourt.com> wrote:',
      '> Your rent of $1,850 is due on August 1.', '> Reply STOP to unsubscribe.',
    ].join('\n');
    expect(stripEmail(email)).toBe('Hi,\n\nMy autopay did not run this month.');
  });

  it('drops ">" lines and a wrapped reply header', () => {
    const email = 'Is there a pet deposit?\n\nOn Mon, Jul 21, 2025 at 4:12 PM Maple Court Leasing <leasing@maplecourt.com>\nwrote:\n> We have 2 bedrooms available.';
    expect(stripEmail(email)).toBe('Is there a pet deposit?');
    expect(stripEmail('> old text\nnew text\n> more old text')).toBe('new text');
  });

  it('drops a forwarded original message and a closing with name and title', () => {
    const email = 'Please refund the fee.\n\nRegards,\nThomas Becker\nSenior Consultant | Halvorsen Partners\n(312) 555-0148\n\n-----Original Message-----\nFrom: Leasing\nSent: Friday\nPlease sign your lease.';
    expect(stripEmail(email)).toBe('Please refund the fee.');
  });

  it('keeps a message that is only a closing', () => {
    expect(cleanText('email', 'Thanks, received.\n\nSent from my iPhone')).toBe('Thanks, received.');
    expect(cleanText('email', 'Thank you!')).toBe('Thank you!');
  });

  it('strips Spanish signatures and headers', () => {
    expect(stripEmail('No me llega el código.\n\nSaludos,\nAna\n\nEnviado desde mi iPhone\n\nEl lun, 3 mar 2025 a las 10:00, Oficina escribió:\n> Hola')).toBe('No me llega el código.');
  });
});

describe('stripVoice', () => {
  it('removes fillers and stutters', () => {
    expect(stripVoice('hi um i have a a small dog uh and um my budget is like twelve hundred')).toBe('hi i have a small dog and my budget is like twelve hundred');
  });
  it('only applies to voice transcripts', () => {
    expect(cleanText('sms', 'um ok')).toBe('um ok');
    expect(cleanText('voice', 'um ok')).toBe('ok');
  });
});

describe('detectLanguage', () => {
  it('tells Spanish from English', () => {
    expect(detectLanguage('Hola, no puedo entrar al portal para pagar la renta')).toBe('es');
    expect(detectLanguage('ok gracias')).toBe('es');
    expect(detectLanguage('I cannot log in to pay my rent')).toBe('en');
    expect(detectLanguage('thanks!!')).toBe('en');
  });
});
