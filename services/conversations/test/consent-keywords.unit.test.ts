import { describe, expect, it } from 'vitest';
import { consentKeyword } from '../src/domain/consent-keywords.ts';

describe('SMS consent keywords', () => {
  it('reads a whole-message STOP / START keyword, in any case, with trailing punctuation', () => {
    for (const body of ['STOP', 'stop', ' Unsubscribe ', 'QUIT!', 'cancel.', 'StopAll']) expect(consentKeyword(body), body).toBe('opted_out');
    for (const body of ['START', 'yes', 'Unstop']) expect(consentKeyword(body), body).toBe('opted_in');
  });

  it('ignores the words inside a sentence', () => {
    for (const body of ['please stop by the office', 'yes I want the tour', 'can I cancel my tour?', 'STOP IT']) expect(consentKeyword(body), body).toBeNull();
  });
});
