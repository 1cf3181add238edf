// Numbers said in words, as voice transcripts and chatty messages write them, turned into digits for the extractors:
// "fifteen hundred" -> 1500, "two bedroom" -> 2 bedroom, "at ten thirty" -> at 10:30, "twelve fifty" -> 1250,
// "mil cuatrocientos" -> 1400, "march fifteenth" -> march 15th, "primero de marzo" -> 1 de marzo.
// Works on folded text (lower case, no accents: see fold()).
import type { Language } from './labels.ts';

const EN_SMALL: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12,
  thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19,
};
const EN_TENS: Record<string, number> = { twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90 };
const EN_ORDINALS: Record<string, number> = {
  first: 1, second: 2, third: 3, fourth: 4, fifth: 5, sixth: 6, seventh: 7, eighth: 8, ninth: 9, tenth: 10, eleventh: 11,
  twelfth: 12, thirteenth: 13, fourteenth: 14, fifteenth: 15, sixteenth: 16, seventeenth: 17, eighteenth: 18, nineteenth: 19,
  twentieth: 20, thirtieth: 30,
};
const ES_SMALL: Record<string, number> = {
  cero: 0, un: 1, uno: 1, una: 1, dos: 2, tres: 3, cuatro: 4, cinco: 5, seis: 6, siete: 7, ocho: 8, nueve: 9, diez: 10, once: 11,
  doce: 12, trece: 13, catorce: 14, quince: 15, dieciseis: 16, diecisiete: 17, dieciocho: 18, diecinueve: 19, veinte: 20,
  veintiuno: 21, veintidos: 22, veintitres: 23, veinticuatro: 24, veinticinco: 25, veintiseis: 26, veintisiete: 27, veintiocho: 28,
  veintinueve: 29, treinta: 30, cuarenta: 40, cincuenta: 50, sesenta: 60, setenta: 70, ochenta: 80, noventa: 90,
};
const ES_HUNDREDS: Record<string, number> = {
  cien: 100, ciento: 100, doscientos: 200, trescientos: 300, cuatrocientos: 400, quinientos: 500, seiscientos: 600,
  setecientos: 700, ochocientos: 800, novecientos: 900,
};
const MONTH = /^(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)$/;
const TIME_CUES = new Set(['at', 'around', 'like', 'about', 'by', 'after', 'before']);
const MONEY_CUES = new Set(['budget', 'anything', 'rent', 'under', 'max', 'maximum', 'afford', 'pay', 'price', 'dollars', 'spend', 'cost']);

const COUNTED_ES = /^(recamaras?|habitacion|cuarto|dormitorio|bano|perr|gat|persona|adulto|nin|hij|bebe|mascota|pajaro|conejo|roomie)/;

interface Tok { word: string; sep: string }

/** Words with the text before each (the last token holds only the trailing text). */
function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  let sep = '';
  for (const m of text.matchAll(/([a-z]+)|([^a-z]+)/g)) {
    if (m[1]) {
      out.push({ word: m[1], sep });
      sep = '';
    } else sep += m[2];
  }
  out.push({ word: '', sep });
  return out;
}

const englishValue = (w: string): { kind: 'small' | 'tens'; value: number } | undefined => {
  if (EN_SMALL[w] !== undefined) return { kind: 'small', value: EN_SMALL[w] };
  if (EN_TENS[w] !== undefined) return { kind: 'tens', value: EN_TENS[w] };
  return undefined;
};

/** An English number-word run at i: [value, tokens used]. Separate numbers ("twelve fifty") are separate runs. */
function englishRun(toks: Tok[], i: number): [number, number] | undefined {
  let total = 0;
  let current = 0;
  let used = 0;
  for (let j = i; j < toks.length; j++) {
    const w = toks[j]!.word;
    const v = englishValue(w);
    const started = used > 0;
    if (v?.kind === 'small' && (!started || (current % 100 === 0 && current > 0) || (current % 100 >= 20 && current % 10 === 0 && v.value < 10))) current += v.value;
    else if (v?.kind === 'tens' && (!started || (current % 100 === 0 && current > 0))) current += v.value;
    else if (w === 'hundred' && started && current > 0 && current < 100) current *= 100;
    else if (w === 'thousand' && started && current > 0 && current < 1000) {
      total += current * 1000;
      current = 0;
    } else if (w === 'and' && started && (current >= 100 || total > 0) && englishValue(toks[j + 1]?.word ?? '')) {
      // "three hundred and twelve"
    } else break;
    used++;
  }
  return used > 0 ? [total + current, used] : undefined;
}

function spanishRun(toks: Tok[], i: number): [number, number] | undefined {
  let total = 0;
  let current = 0;
  let used = 0;
  for (let j = i; j < toks.length; j++) {
    const w = toks[j]!.word;
    const started = used > 0;
    if (w === 'mil' && (current > 0 || !started)) {
      total += (current || 1) * 1000;
      current = 0;
    } else if (ES_HUNDREDS[w] !== undefined && current === 0) current = ES_HUNDREDS[w];
    else if (ES_SMALL[w] !== undefined && (!started || (current % 10 === 0 && (current >= 100 || (current >= 20 && ES_SMALL[w] < 10)) ) || (current === 0 && total > 0))) current += ES_SMALL[w];
    else if (w === 'y' && current >= 20 && current % 10 === 0 && (ES_SMALL[toks[j + 1]?.word ?? ''] ?? 10) < 10) {
      // "treinta y cinco"
    } else break;
    used++;
  }
  return used > 0 ? [total + current, used] : undefined;
}

const ordinalSuffix = (n: number) => (n % 10 === 1 && n !== 11 ? 'st' : n % 10 === 2 && n !== 12 ? 'nd' : n % 10 === 3 && n !== 13 ? 'rd' : 'th');

function spokenOrdinal(toks: Tok[], i: number): [number, number] | undefined {
  const w = toks[i]!.word;
  const tens = EN_TENS[w];
  const unit = EN_ORDINALS[toks[i + 1]?.word ?? ''];
  // "twenty first", "thirty-first"
  if (tens !== undefined && unit !== undefined && unit < 10 && /^[\s-]$/.test(toks[i + 1]!.sep)) return [tens + unit, 2];
  return EN_ORDINALS[w] !== undefined ? [EN_ORDINALS[w], 1] : undefined;
}

/** The folded text with number words replaced by digits. Spanish number words only in Spanish ("once" is English too). */
export function wordsToDigits(folded: string, language: Language): string {
  const toks = tokenize(folded);
  let out = '';
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    const prev = i > 0 ? toks[i - 1]!.word : '';
    const next = toks[i + 1]?.word ?? '';
    const ordinal = spokenOrdinal(toks, i);
    if (ordinal) {
      const [ord, len] = ordinal;
      const after = toks[i + len]?.word ?? '';
      if (MONTH.test(prev) || (after === 'of' && (MONTH.test(toks[i + len + 1]?.word ?? '') || toks[i + len + 1]?.word === 'the'))) {
        out += `${t.sep}${ord}${ordinalSuffix(ord)}`;
        i += len - 1;
        continue;
      }
    }
    if (language === 'es' && t.word === 'primero' && next === 'de') {
      out += `${t.sep}1`;
      continue;
    }
    // Spanish "un"/"una" is an article; only before something counted ("una recámara", "un perro") is it a number.
    if (language === 'es' && /^(un|una|uno)$/.test(t.word) && !COUNTED_ES.test(next)) {
      out += `${t.sep}${t.word}`;
      continue;
    }
    const run = englishRun(toks, i) ?? (language === 'es' ? spanishRun(toks, i) : undefined);
    if (!run) {
      out += `${t.sep}${t.word}`;
      continue;
    }
    const [value, used] = run;
    // A number read out digit by digit ("eight eight three two one zero four seven"): one number.
    const digits = digitSequence(toks, i, language);
    if (digits.length >= 4) {
      out += `${t.sep}${digits.join('')}`;
      i += digits.length - 1;
      continue;
    }
    const isEnglish = englishValue(t.word) !== undefined;
    const minutes = isEnglish && used === 1 ? englishRun(toks, i + 1) : undefined;
    if (minutes && minutes[1] === 1 && value >= 1 && value <= 19 && minutes[0] >= 10 && minutes[0] <= 59) {
      // "four thirty", "at ten fifteen": a clock time; "twelve fifty" without a cue: 1250.
      const moneyNear = toks.slice(Math.max(0, i - 5), i).some((k) => MONEY_CUES.has(k.word));
      const clock = value <= 12 && (value <= 9 || prev === 'at' || (TIME_CUES.has(prev) && !moneyNear));
      out += `${t.sep}${clock ? `${value}:${String(minutes[0]).padStart(2, '0')}` : value * 100 + minutes[0]}`;
      i += 1;
      continue;
    }
    out += `${t.sep}${value}`;
    i += used - 1;
  }
  return out;
}

function digitSequence(toks: Tok[], i: number, language: Language): number[] {
  const out: number[] = [];
  for (let j = i; j < toks.length; j++) {
    const w = toks[j]!.word;
    const v = EN_SMALL[w] ?? (language === 'es' ? ES_SMALL[w] : undefined);
    if (v === undefined || v > 9 || (j > i && toks[j]!.sep.trim() !== '')) break;
    out.push(v);
  }
  return out;
}
