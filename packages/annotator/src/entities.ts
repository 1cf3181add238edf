// Identifiers, amounts, dates, units and product names a message mentions.
import type { Entities } from './annotation.ts';
import { findDates, isoDay, type SentAt } from './dates.ts';
import type { Language } from './labels.ts';
import { leadView } from './lead.ts';
import { fold } from './text.ts';

const unique = (xs: string[]) => [...new Set(xs)];
const hasDigit = (s: string) => /\d/.test(s);

// Prefixed ids ("TXN-48213", "CNF-771203", "TX-20250702-8841") and ids after a cue ("conf #A1B2C3", "ref 7781-2210").
const PREFIXED_ID = /\b(?:TXN|TRX|TX|PMT|CNF|CONF|RP|SD|REF|ORD|INV|PAY|ACH)-?[A-Z0-9]*\d[A-Z0-9]*(?:-[A-Z0-9]+)*\b/gi;
const ID_CUE = /\b(?:confirmation|conf|ref|reference|receipt|transaction|txn|trans|payment id|order|referencia|confirmaci[oó]n|comprobante|recibo)\b(?:\s*(?:numbers?|nos?\.?|num|id|code|numero|n[uú]mero|de pago))?\s*(?:is|es|it'?s|it is)?\s*[:#]?\s*/gi;
const ID_TOKEN = /^#?\s*([A-Z0-9](?:[A-Z0-9-]*[A-Z0-9])?)/i;

function transactionIds(text: string, view: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(PREFIXED_ID)) if (!/^(ref|conf)$/i.test(m[0])) out.push(m[0]);
  const fromCue = (source: string) => {
    for (const m of source.matchAll(ID_CUE)) {
      let rest = source.slice(m.index + m[0].length);
      // "confirmation numbers A1B2C3 and A1B2D9"
      for (let k = 0; k < 3; k++) {
        const id = ID_TOKEN.exec(rest);
        if (!id || !hasDigit(id[1]!) || id[1]!.length < 4 || /^\d{1,2}(st|nd|rd|th)?$/i.test(id[1]!)) break;
        if (/^(19|20)\d\d$/.test(id[1]!) || /^\d{1,2}\/\d{1,2}/.test(rest)) break;
        out.push(id[1]!);
        rest = rest.slice(id[0].length);
        const joiner = /^\s*(?:,|and|y|&)\s*#?\s*/i.exec(rest);
        if (!joiner) break;
        rest = rest.slice(joiner[0].length);
      }
    }
  };
  fromCue(text);
  if (!out.length) fromCue(view);
  // An id is never also counted as money.
  return unique(out.filter((id) => !/^\$/.test(id)));
}

const ERROR_CUE = /\b(?:error|err|code|c[oó]digo|fault)\b\s*(?:code\s*|number\s*)?[:#]?\s*"?([A-Z]{0,4}-?\d{2,5}[A-Z]?)\b/gi;
const BARE_ERROR = /\b(?:E|ERR|ERROR)[-_]?\d{3,5}\b|\b[45]\d\d\s+(?:error|page|server error)\b|\bR\d{2}\b(?=\s+(?:insufficient|account|no account|returned))/gi;

function errorCodes(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(ERROR_CUE)) out.push(m[1]!.toUpperCase());
  for (const m of text.matchAll(BARE_ERROR)) out.push(m[0].replace(/\s+(error|page|server error)$/i, '').toUpperCase());
  return unique(out);
}

const MONEY = /(?:US)?\$\s?\d{1,3}(?:,\d{3})+(?:\.\d{2})?|(?:US)?\$\s?\d+(?:\.\d{1,2})?(?:k\b)?|\b(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{2})?\s?(?:dollars|d[oó]lares|usd|bucks)\b/gi;

function money(text: string, view: string): string[] {
  const out = [...text.matchAll(MONEY)].map((m) => m[0]);
  // Spoken amounts ("seventy five dollars") as their digits.
  if (!out.length) for (const m of view.matchAll(/\b\d+(?:\.\d{2})?\s?(?:dollars|dolares|usd|bucks)\b/g)) out.push(m[0]);
  return unique(out);
}

const UNIT = /\b(?:unit|apt|apartment|apto|depto|departamento|unidad|suite|ste)\.?\s*#?\s*(\d{1,4}[A-Z]?|[A-Z]-?\d{1,4})\b|\bapt\.?\s*#\s*(\d{1,4}[A-Z]?)\b|\b(?:i'?m in|i live in|live in|in|from|to|the guy in|del|el|en el)\s+(\d{1,3}[A-F])\b/gi;

function unitNumbers(text: string, view: string): string[] {
  const out: string[] = [];
  for (const source of [text, view]) {
    for (const m of source.matchAll(UNIT)) {
      const u = (m[1] ?? m[2] ?? m[3])!.toUpperCase();
      if (!hasDigit(u)) continue;
      out.push(u);
    }
  }
  return unique(out);
}

const PRODUCTS: [RegExp, string][] = [
  [/\bresman\b/, 'ResMan'],
  [/\b(resident portal|online portal|payment portal|tenant portal|portal de residentes|portal)\b/, 'resident portal'],
  [/\b(mobile app|the app|app|aplicacion|la app)\b/, 'mobile app'],
  [/\b(auto-?pay|automatic payments?|pago automatico|auto pay)\b/, 'autopay'],
  [/\b(website|web site|site|pagina de internet|pagina web|su pagina)\b/, 'website'],
  [/\b(online application|rental application|the application|solicitud en linea)\b/, 'online application'],
  [/\b(maintenance requests?|work orders?|maintenance tab|maintenance form|solicitud de mantenimiento)\b/, 'maintenance requests'],
  [/\b(text alerts?|push notifications?|notifications?|notificaciones)\b/, 'notifications'],
  [/\b(gate app|key fobs?|fob)\b/, 'access control'],
  [/\b(package lockers?|locker code)\b/, 'package lockers'],
  [/\b(chat widget|support chat|live chat)\b/, 'web chat'],
  [/\b(apple pay|zelle|venmo|credit card|debit card|money order)\b/, 'payment method'],
];

function productNames(folded: string): string[] {
  return PRODUCTS.filter(([re]) => re.test(folded)).map(([, name]) => name);
}

export function extractEntities(text: string, language: Language, ref: SentAt | undefined): Entities {
  const view = leadView(text, language);
  const folded = fold(text);
  const dates = ref
    ? unique(findDates(view, language, ref, 'nearest').filter((m) => m.precision === 'day').map((m) => isoDay(m.year, m.month, m.day)))
    : [];
  const transaction_ids = transactionIds(text, view);
  const error_codes = errorCodes(text).filter((c) => !transaction_ids.includes(c));
  return {
    transaction_ids,
    error_codes,
    money: money(text, view),
    dates,
    unit_numbers: unitNumbers(text, view).filter((u) => !transaction_ids.includes(u) && !error_codes.includes(u)),
    product_names: productNames(folded),
  };
}
