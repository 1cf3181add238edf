// Leasing lead fields stated in a message: rooms, move-in date, pets, budget, occupants, a tour and its time.
// Rules developed against data/train.jsonl only. They read the folded text (lower case, no accents) with number
// words as digits, so "dos recámaras" and "two bedroom" both read "2 recamaras" / "2 bedroom".
import type { Lead, Pet } from './annotation.ts';
import { addDays, daysFrom, findDates, isoDay, isoLocalTime, isoMonth, type Mention, type SentAt } from './dates.ts';
import type { Language } from './labels.ts';
import { wordsToDigits } from './numbers.ts';
import { fold } from './text.ts';

const SLANG: [RegExp, string][] = [
  [/\b(tmrw|tmrrw|tmr|tomorow|tommorow|tommorrow|2moro|2morrow)\b/g, 'tomorrow'],
  [/\b(tdy)\b/g, 'today'],
  [/\brn\b/g, 'right now'],
  [/\bw\/\s*/g, 'with '],
  [/\bppl\b/g, 'people'],
  [/\bu\b/g, 'you'],
  [/\bmovein\b/g, 'move-in'],
  [/\bavail\b/g, 'available'],
  [/\bdepa\b/g, 'departamento'],
];

/** The folded, digit-normalised view of a message that the lead rules read. */
export function leadView(text: string, language: Language): string {
  let t = wordsToDigits(fold(text), language);
  for (const [re, to] of SLANG) t = t.replace(re, to);
  return t.replace(/(\d),(\d{3})\b/g, '$1$2');
}

const NUM = String.raw`(\d+(?:\.\d)?)`;

function bedrooms(t: string): number | undefined {
  // "my current 1 bedroom" is where they live now, not what they want.
  const re = new RegExp(String.raw`(?<!current |my |our )\b${NUM}\s*-?\s*(?:br|bd|bdr|bdrm|bdrms|bed|beds|bedroom|bedrooms|bedrm|recamaras?|habitacion(?:es)?|cuartos?|dormitorios?)\b`, 'g');
  for (const m of t.matchAll(re)) {
    const n = Number(m[1]);
    if (Number.isInteger(n) && n >= 1 && n <= 6) return n;
  }
  const x = /\b([1-4])\s*x\s*([1-4](?:\.5)?)\b/.exec(t);
  if (x) return Number(x[1]);
  if (/\b(studios?|estudios?|efficiency|monoambiente)\b/.test(t)) return 0;
  return undefined;
}

function bathrooms(t: string): number | undefined {
  const m = new RegExp(String.raw`\b${NUM}\s*-?\s*(?:ba|bth|bath|baths|bathroom|bathrooms|banos?)\b`).exec(t);
  if (m) {
    const n = Number(m[1]);
    if (n >= 1 && n <= 5) return n;
  }
  const x = /\b([1-4])\s*x\s*([1-4](?:\.5)?)\b/.exec(t);
  return x ? Number(x[2]) : undefined;
}

const PET_WORDS: [RegExp, string][] = [
  [/^(dogs?|pupp(y|ies)|perr(o|os|ito|itos)|lab|labs|labrador|retriever|beagle|terrier|shepherd|corgi|poodle|chihuahua|husky|pit|pitbull|bulldog|doodle|dachshund|schnauzer)$/, 'dog'],
  [/^(cats?|kittens?|kitty|gat(o|os|ito|itos))$/, 'cat'],
  [/^(birds?|parakeets?|parrots?|budgies?|pajaros?|pericos?)$/, 'bird'],
  [/^(rabbits?|bunn(y|ies)|conejos?)$/, 'rabbit'],
  [/^(hamsters?|guinea|ferrets?)$/, 'small animal'],
  [/^(fish|peces)$/, 'fish'],
];
const BREEDS = /^(lab|labs|labrador|retriever|beagle|terrier|shepherd|corgi|poodle|chihuahua|husky|pit|pitbull|bulldog|doodle|dachshund|schnauzer|parakeets?)$/;
const petType = (w: string) => PET_WORDS.find(([re]) => re.test(w))?.[1];

function pets(t: string): Pet[] | undefined {
  if (/\b(no pets|sin mascotas|no tenemos mascotas|no tengo mascotas|don'?t have any pets)\b/.test(t) && !/\b(\d+|a|an|my|our)\s+(dog|cat)/.test(t)) return undefined;
  const counts = new Map<string, number>();
  let generic = new Set<string>();
  const words = [...t.matchAll(/[a-z0-9']+/g)];
  for (const [i, m] of words.entries()) {
    const type = petType(m[0]);
    if (!type) continue;
    const nextWord = words[i + 1]?.[0] ?? '';
    if (/^(park|parks|run|friendly|policy|rent|deposit|fee|limit|door|walker|walking|sitter|owners?|lbs?)$/.test(nextWord)) continue;
    // The count: a number or an article up to three words before ("2 small dogs", "a 15 lb terrier", "un perro"),
    // Spanish adjectives come after the noun.
    let count: number | undefined;
    for (let back = 1; back <= 4 && i - back >= 0; back++) {
      const w = words[i - back]![0];
      if (/^\d+$/.test(w) && Number(w) <= 6 && !/^(lb|lbs)$/.test(words[i - back + 1]?.[0] ?? '')) {
        count = Number(w);
        break;
      }
      if (/^(a|an|my|our|his|her|one)$/.test(w)) {
        count = 1;
        break;
      }
      if (/^(allow|allowed|accept|permit|about|for|with|any|your|the|de|los|las|el|la|are|no|each)$/.test(w)) break;
    }
    if (count === undefined) continue;
    // "allow a 90 lb dog", "do you accept cats": asking about the policy, not saying they have one.
    const lead = words.slice(Math.max(0, i - 5), i).map((w) => w[0]).join(' ');
    if (/\b(allow|allowed|accept|permit|permitted|ok with|weight limit|limit for)\b/.test(lead) && !/\b(have|has|tengo|tenemos)\b/.test(lead)) continue;
    if (BREEDS.test(m[0]) && generic.has(type)) continue;
    if (!BREEDS.test(m[0])) generic = new Set([...generic, type]);
    // A breed right after its generic noun ("a dog a small beagle", "two dogs (a lab and a corgi)") is the same animal.
    if (BREEDS.test(m[0]) && counts.has(type)) continue;
    counts.set(type, (counts.get(type) ?? 0) + count);
  }
  return counts.size ? [...counts].map(([type, count]) => ({ type, count })) : undefined;
}

function budget(t: string): number | undefined {
  const money = String.raw`\$?\s?(\d{3,5}(?:\.\d{2})?|\d(?:\.\d)?k)\b`;
  const value = (s: string) => (s.endsWith('k') ? Math.round(Number(s.slice(0, -1)) * 1000) : Math.round(Number(s)));
  const ok = (n: number) => n >= 300 && n <= 20_000 && !(n >= 1990 && n <= 2035 && !/\$/.test(t));
  // A range: "between $1,900 and $2,300", "1200-1400", "de 1200 a 1500".
  const range = new RegExp(String.raw`(?:budget|presupuesto|between|entre|from|de)?[^.?!\n]{0,20}?${money}\s*(?:-|to|and|a|y)\s*${money}`, 'g');
  for (const m of t.matchAll(range)) {
    const a = value(m[1]!);
    const b = value(m[2]!);
    const context = t.slice(Math.max(0, m.index - 30), m.index + m[0].length);
    if (ok(a) && ok(b) && b > a && /\b(budget|presupuesto|between|entre|rent|range|afford)\b|\$/.test(context)) return b;
  }
  const cue = String.raw`(?:under|below|less than|max(?:imum)?|up to|no more than|not more than|at most|budget(?:'s)?|presupuesto|hasta|maximo|afford|spend|stipend|cheaper than|tops)`;
  const before = new RegExp(String.raw`\b${cue}\b([^.?!\n\d$]{0,28})${money}`, 'g');
  for (const m of t.matchAll(before)) {
    const n = value(m[2]!);
    if (!ok(n)) continue;
    const after = t.slice(m.index + m[0].length, m.index + m[0].length + 12);
    if (/^\s*(lbs?|sq|ft|square|pounds|libras)\b/.test(after)) continue;
    return n;
  }
  const after = new RegExp(String.raw`${money}\s*(?:\/\s*(?:mo|month)\s*)?(?:max(?:imum)?|at most|tops|or less|o menos|maximo)\b`, 'g');
  for (const m of t.matchAll(after)) {
    const n = value(m[1]!);
    if (ok(n)) return n;
  }
  // "anything around 1250": an approximate figure said while asking for a place.
  const around = new RegExp(String.raw`\b(?:anything|something|rent|looking|budget)\b[^.?!\n]{0,20}\b(?:around|about|like|unos|alrededor de)\s+${money}`, 'g');
  for (const m of t.matchAll(around)) {
    const n = value(m[1]!);
    if (ok(n)) return n;
  }
  return undefined;
}

const RELATIONS = String.raw`(?:wife|husband|partner|spouse|boyfriend|girlfriend|fiance|fiancee|roommates?|roomie|sister|brother|sons?|daughters?|kids?|children|child|mom|mother|dad|father|mother-in-law|father-in-law|baby|parents?|grandma|grandmother|grandpa|esposa|esposo|novia|novio|hijas?|hijos?|mama|papa|pareja|ninos?|ninas?|bebe)`;
const REL = new RegExp(String.raw`\b(?:my|our|mi|mis)\s+(?:(\d+)\s+)?(?:[a-z-]+\s+)?${RELATIONS}\b`, 'g');

function occupants(t: string): number | undefined {
  const explicit = [
    /\b(\d+)\s+(?:people|persons|person|adults|of us|personas|adultos|occupants|in the family|en la familia)\b/,
    /\bsomos\s+(\d+)\b/,
    /\bfamily of\s+(\d+)\b/,
    /\bthere (?:are|will be)\s+(\d+)\s+of us\b/,
  ];
  for (const re of explicit) {
    const m = re.exec(t);
    if (m && Number(m[1]) >= 1 && Number(m[1]) <= 12) {
      // "2 adults 1 kid": the adults and the children together.
      const kids = /\b(\d+)\s+adults?,?\s+(?:and\s+)?(\d+)\s+(?:kids?|children|child)\b/.exec(t);
      if (kids && re === explicit[0] && /adults/.test(m[0])) return Number(kids[1]) + Number(kids[2]);
      return Number(m[1]);
    }
  }
  const adultsKids = /\b(\d+)\s+adults?,?\s+(?:and\s+)?(\d+)\s+(?:kids?|children|child)\b/.exec(t);
  if (adultsKids) return Number(adultsKids[1]) + Number(adultsKids[2]);
  if (/\b(?:(?:just|only) me|it(?:'s| is| will be| will just be| would be)\s+(?:just\s+)?me)\b(?!\s*(?:,|\+|&|and\b|y\b))|\b(?:living alone|live alone|by myself|soy solo yo|solo yo|vivo solo|vivo sola|1 person)\b/.test(t)) return 1;
  if (/\bwe(?:'re| are) a couple\b|\bsomos pareja\b/.test(t)) return 2;
  // A group said as its members: "me, my wife and our 2 kids", "my husband and I", "mi esposa y yo", "with my girlfriend".
  const group = /\b(?:me|myself)\b[\s,+&]*(?:and\s+)?(?:my|mi|mis)\b[^.?!\n]{0,60}|\b(?:my|mi|mis)\s[^.?!\n]{0,60}?\b(?:and i|y yo)\b|\bmoving in with my\b[^.?!\n]{0,40}|\bfor my\b[^.?!\n]{0,50}?\band me\b|\bme \+[^.?!\n]{0,40}/.exec(t);
  if (!group) return undefined;
  const phrase = group[0];
  let n = 1;
  let members = 0;
  for (const m of phrase.matchAll(REL)) {
    const word = m[0];
    const count = m[1] ? Number(m[1]) : /\b(kids|children|sons|daughters|roommates|parents|hijos|hijas|ninos|ninas)\b/.test(word) ? undefined : 1;
    if (count === undefined) return undefined;
    n += count;
    members++;
  }
  for (const m of phrase.matchAll(/\+\s*(?:my\s+)?(boyfriend|girlfriend|wife|husband|partner|roommate|kid|baby)\b/g)) {
    void m;
    n++;
    members++;
  }
  return members > 0 ? n : undefined;
}

// A tour: said outright ("tour", "showing", "visitar"), or "come by" / "see it" where the message is about a place to rent.
const TOUR_STRONG = /\b(tours?|touring|showing|viewing|walk-?through|schedule a visit|(?:ir|pasar|puedo ir) a ver(?:lo|la)?|visitar(?:lo|la|los)?|una visita|cita para ver)\b/;
const TOUR_WEAK = /\b((?:come|stop|swing)\s+(?:by|back|in)|come (?:see|look|view|check)|(?:see|view|look at|check out)\s+(?:it|one|them|the (?:unit|apartment|model|place|studio|townhome|townhouse|community|property|\d)|available units|a unit|the \w+ bedroom)|ver (?:el|la|los|un|una)\s+(?:departamento|apartamento|estudio|unidad|casa|depa|\d)|quiero ver|puedo ver|se puede ver|verlo)\b/;
const RENTAL = /\b(\d+\s*(?:br|bd|bed|beds|bedrooms?)|bedrooms?|studios?|estudios?|recamaras?|habitacion\w*|apartments?|apartamentos?|departamentos?|depa|units?|townho\w+|available|disponible\w*|listing|anuncio|for rent|rent|renta|move|moving|mudar\w*|model)\b/;
// "can I come see it" is the prospect coming over; "can someone come look at it" is a repair.
const TOUR_ASK = /\b(?:can|could|may) (?:i|we) (?:come (?:by|back|see|look|view|check)|stop by|swing by|see (?:it|one|them|the|a)\b|view (?:it|one|the)\b|look at (?:it|one|the)\b)/;
const isTour = (t: string) => TOUR_STRONG.test(t) || TOUR_ASK.test(t) || (TOUR_WEAK.test(t) && RENTAL.test(t));

// "could maintenance come by tomorrow": a repair visit, not a tour.
const MAINTENANCE = /\b(maintenance|repair|fix|technician|plumber|leak\w*|broken|clogged|jammed|mantenimiento|reparar|arreglar)\b/;

/** A clock time from a mention with the sender's likely meaning: "at 4" for a tour is 4 pm, "at 9" is 9 am. */
function clock(m: Mention): [number, number] {
  let h = m.hour ?? 12;
  if (!m.meridiemKnown && h >= 1 && h <= 7) h += 12;
  return [h, m.minute ?? 0];
}

function tourTime(t: string, mentions: Mention[], ref: SentAt): string | undefined {
  const timed = mentions.filter((m) => m.hour !== undefined);
  for (const m of timed) {
    const [h, min] = clock(m);
    let day: [number, number, number] | undefined;
    if (m.precision === 'day') day = [m.year, m.month, m.day];
    else {
      // The day said apart from the time: "monday after work, like 5:30", "this sunday around 1pm".
      const near = mentions.filter((d) => d.precision === 'day' && d.hour === undefined && Math.abs(d.index - m.index) <= 40)
        .sort((a, b) => Math.abs(a.index - m.index) - Math.abs(b.index - m.index))[0];
      if (near) day = [near.year, near.month, near.day];
      else {
        const later = h * 60 + min > ref.hour * 60 + ref.minute;
        day = later ? [ref.year, ref.month, ref.day] : addDays(ref.year, ref.month, ref.day, 1);
      }
    }
    if (daysFrom(ref, ...day) < 0) continue;
    void t;
    return isoLocalTime(day[0], day[1], day[2], h, min);
  }
  return undefined;
}

const MOVE_CUES = /\b(move|moving|moved in|move-in|mudar\w*|mudo|mudamos|mudanza|cambiar(?:nos)?|start|starting|begin|beginning|lease start|available|availability|disponible|need (?:it|a place|something)|looking|para|for|by|around|desde|a partir)\b[^.?!\n]{0,32}$/;
const NOT_MOVE = /\b(tour|see it|see the|see one|visit|view|come by|come see|ver|visitar|cita|ends?|ending|expires?|vence|current lease|toured|last|ago|since|contract|job|married|visiting|visitors?|guests?|renew\w*)\b[^.?!\n]{0,24}$/;

function moveIn(t: string, mentions: Mention[], ref: SentAt, tourRequested: boolean): string | undefined {
  let best: { m: Mention; score: number } | undefined;
  for (const m of mentions) {
    if (m.precision === 'time' || m.hour !== undefined) continue;
    const start = m.precision === 'day' ? daysFrom(ref, m.year, m.month, m.day) : (m.year - ref.year) * 12 + (m.month - ref.month);
    if (start < 0) continue;
    const before = t.slice(Math.max(0, m.index - 40), m.index);
    let score = 0;
    if (MOVE_CUES.test(before)) score += 2;
    if (/\b(move|moving|move-in|mudar\w*|mudo|mudamos|start|starting|need)\b/.test(before)) score += 1;
    if (/^\s*(move-in|move in|movein)\b/.test(t.slice(m.index + m.text.length))) score += 3;
    if (NOT_MOVE.test(before)) score -= 3;
    // A weekday next to a tour request is the tour's day, not the move-in.
    if (tourRequested && m.precision === 'day' && (/\b(mon|tue|wed|thu|fri|sat|sun|lunes|martes|miercoles|jueves|viernes|sabado|domingo|tomorrow|today|manana|hoy)/.test(m.text.toLowerCase()))) score -= 4;
    if (score <= 0) continue;
    // A day beats the month it is in ("in February ... starting February 1st").
    if (!best || score > best.score || (score === best.score && m.precision === 'day' && best.m.precision === 'month')) best = { m, score };
  }
  if (!best) return undefined;
  const m = best.m;
  return m.precision === 'day' ? isoDay(m.year, m.month, m.day) : isoMonth(m.year, m.month);
}

/** The lead fields a message states (cleaned text: no quoted reply, no fillers). */
export function extractLead(text: string, language: Language, ref: SentAt | undefined): Lead {
  const t = leadView(text, language);
  const lead: Lead = {};
  const b = bedrooms(t);
  if (b !== undefined) lead.bedrooms = b;
  const ba = bathrooms(t);
  if (ba !== undefined) lead.bathrooms = ba;
  const tour = isTour(t) && !(MAINTENANCE.test(t) && !TOUR_STRONG.test(t) && !TOUR_ASK.test(t));
  if (ref) {
    const mentions = findDates(t, language, ref, 'forward');
    const move = moveIn(t, mentions, ref, tour);
    if (move) lead.move_in = move;
    if (tour) {
      const when = tourTime(t, mentions, ref);
      lead.tour_requested = true;
      if (when) lead.tour_time = when;
    }
  } else if (tour) lead.tour_requested = true;
  const p = pets(t);
  if (p) lead.pets = p;
  const money = budget(t);
  if (money !== undefined) lead.budget_max = money;
  const o = occupants(t);
  if (o !== undefined) lead.occupants = o;
  return lead;
}
