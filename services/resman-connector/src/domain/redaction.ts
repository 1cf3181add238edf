// Communications logged to ResMan must not carry card numbers or SSNs in clear (RESMAN.md).

const CARD_CANDIDATE = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g;
const SSN_FORMATTED = /(?<![\d-])\d{3}([- ])\d{2}\1\d{4}(?![\d-])/g;
// A bare nine-digit run is only an SSN when the text says so nearby.
const SSN_BARE_WITH_CONTEXT = /(\b(?:ssn|social security(?: number| no\.?| #)?)\b[^\d]{0,20})(\d{9})(?!\d)/gi;

export const CARD_MASK = '[card number removed]';
export const SSN_MASK = '[SSN removed]';

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Replaces payment card numbers (13-19 digits passing Luhn, spaced or dashed) and SSNs with a mask. */
export function redactSensitive(text: string): string {
  return text
    .replace(CARD_CANDIDATE, (match) => {
      const digits = match.replace(/\D/g, '');
      return digits.length >= 13 && digits.length <= 19 && luhnValid(digits) ? CARD_MASK : match;
    })
    .replace(SSN_FORMATTED, SSN_MASK)
    .replace(SSN_BARE_WITH_CONTEXT, (_m, lead: string) => `${lead}${SSN_MASK}`);
}
