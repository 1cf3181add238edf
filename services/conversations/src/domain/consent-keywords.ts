// The carrier-standard SMS keywords (the ones Twilio's Advanced Opt-Out honours): a message that is only one of them
// changes the customer's consent for SMS.
const OPT_OUT = new Set(['stop', 'stopall', 'unsubscribe', 'cancel', 'end', 'quit']);
const OPT_IN = new Set(['start', 'yes', 'unstop']);

export type KeywordConsent = 'opted_out' | 'opted_in';

/** What a whole message body says about consent (null: it is not a keyword, e.g. "stop by tomorrow"). */
export function consentKeyword(body: string): KeywordConsent | null {
  const word = body.trim().toLowerCase().replace(/[.!]+$/, '');
  if (OPT_OUT.has(word)) return 'opted_out';
  if (OPT_IN.has(word)) return 'opted_in';
  return null;
}
