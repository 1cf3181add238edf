// Message text as the classifier and the extractors see it: quoted replies, signatures and voice fillers removed.
import type { Language } from './labels.ts';

// A line that opens the quoted part of a reply: everything from it on is the earlier message.
const QUOTE_HEADERS = [
  /^\s*on\b.{0,200}\bwrote:\s*$/i,
  /^\s*el\b.{0,200}\bescribi[óo]:\s*$/i,
  /^\s*-{2,}\s*(original message|forwarded message|mensaje original)\s*-{2,}\s*$/i,
  /^\s*(from|de):\s.+$/i,
  /^\s*_{5,}\s*$/,
];
const DEVICE_SIGNATURES = /^\s*(sent from my \w+|sent from (outlook|yahoo mail|mail) for \w+|get outlook for \w+|enviado desde mi \w+)\b.*$/i;
const CLOSINGS = /^\s*(thanks|thank you|thanks so much|thanks in advance|many thanks|best|best regards|kind regards|warm regards|warmly|regards|sincerely|cheers|respectfully|saludos|gracias|atentamente|cordialmente|un saludo|please help)\s*[,.!]?\s*$/i;

/**
 * The new part of an email: drops quoted lines (`>`), everything after a reply header ("On ... wrote:", "-----Original
 * Message-----"), device signatures, a "-- " signature block, and a closing ("Thanks,") with the name lines after it.
 */
export function stripEmail(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const kept: string[] = [];
  for (const [i, line] of lines.entries()) {
    const started = kept.some((l) => l.trim());
    if (started && QUOTE_HEADERS.some((re) => re.test(line))) break;
    // Some mail clients wrap the reply header: "On Mon, Jul 21, 2025 at 4:12 PM Name <a@b>" / "wrote:".
    if (started && /^\s*(?:on|el)\s\S/i.test(line) && /^\s*(?:.{0,80}\s)?(?:wrote|escribi[óo]):\s*$/i.test(lines[i + 1] ?? '')) break;
    if (/^\s*--\s*$/.test(line) && kept.some((l) => l.trim())) break;
    if (/^\s*>/.test(line)) continue;
    if (DEVICE_SIGNATURES.test(line)) continue;
    kept.push(line);
  }
  while (kept.length && !kept.at(-1)!.trim()) kept.pop();
  // A closing line near the end, followed only by short lines (a name, a title, a phone number, a unit).
  for (let i = kept.length - 1; i >= Math.max(1, kept.length - 6); i--) {
    const line = kept[i]!;
    if (CLOSINGS.test(line) || /^\s*-\s*\S.{0,30}$/.test(line)) {
      const rest = kept.slice(i + 1);
      const before = kept.slice(0, i).join(' ').trim();
      if (before && rest.every((l) => l.trim().length <= 60)) {
        kept.length = i;
        break;
      }
    }
  }
  while (kept.length && !kept.at(-1)!.trim()) kept.pop();
  return kept.join('\n').trim();
}

const FILLERS = /\b(u+m+|u+h+m*|e+r+m+|h+m+|e+h+|e+m+|mm+)\b[,.]?\s*/gi;
// A word said twice in a row ("a a small beagle", "the the").
const STUTTER = /\b(\w+)(\s+\1\b)+/gi;

/** A voice transcript without its fillers ("um", "uh") and stutters. */
export function stripVoice(text: string): string {
  return text.replace(FILLERS, '').replace(STUTTER, '$1').replace(/\s{2,}/g, ' ').trim();
}

/** The part of the message to classify and extract from, by channel. */
export function cleanText(channel: string, text: string): string {
  let t = text.normalize('NFC');
  if (channel === 'email') t = stripEmail(t);
  if (channel === 'voice') t = stripVoice(t);
  // An email that was nothing but a quote or a signature keeps its original text (it still says something).
  return t.trim() || text.trim();
}

/** Lower case without accents: "Recámara" -> "recamara". */
export function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

const ES_WORDS = new Set([
  'el', 'la', 'los', 'las', 'de', 'del', 'que', 'y', 'en', 'un', 'una', 'por', 'para', 'con', 'mi', 'mis', 'es', 'esta', 'hola',
  'gracias', 'buenas', 'buenos', 'dias', 'tardes', 'noches', 'quiero', 'necesito', 'puedo', 'tengo', 'tienen', 'pero', 'porque', 'como',
  'cuanto', 'donde', 'cuando', 'ya', 'se', 'le', 'lo', 'al', 'muy', 'sin', 'pago', 'renta', 'cuenta', 'departamento',
  'depa', 'recamara', 'recamaras', 'habitacion', 'habitaciones', 'somos', 'hay', 'sale', 'perdon', 'favor', 'ayuda', 'mande', 'llamo',
  'bueno', 'usted', 'ustedes', 'nos', 'su', 'sus', 'ahora', 'hoy', 'manana', 'ayer', 'tambien', 'todavia', 'aqui', 'vez',
]);
const EN_WORDS = new Set([
  'the', 'an', 'and', 'of', 'to', 'is', 'it', 'my', 'i', 'you', 'your', 'for', 'on', 'in', 'at', 'this', 'that', 'with', 'can',
  'cant', 'have', 'has', 'was', 'are', 'do', 'does', 'did', 'not', 'please', 'thanks', 'thank', 'hi', 'hello', 'hey', 'we', 'our',
  'what', 'when', 'how', 'where', 'rent', 'pay', 'payment', 'account', 'just', 'im', 'get', 'got', 'be', 'will', 'would',
  'there', 'if', 'so', 'but', 'or', 'its', 'up', 'out', 'all', 'any', 'from', 'still', 'today', 'tomorrow', 'ok', 'yes', 'lol', 'thx',
]);

const ES_STRONG = new Set(['gracias', 'hola', 'buenas', 'buenos', 'necesito', 'quiero', 'tengo', 'tienen', 'somos', 'perdon']);

/** English or Spanish, by which language's common words the message uses more (Spanish accents and ¿¡ count too). */
export function detectLanguage(text: string): Language {
  const words = fold(text).match(/[a-z]+/g) ?? [];
  let es = 0;
  let en = 0;
  for (const w of words) {
    if (ES_WORDS.has(w)) es += ES_STRONG.has(w) ? 2 : 1;
    if (EN_WORDS.has(w)) en++;
  }
  if (/[¿¡ñ]/i.test(text)) es += 2;
  if (/[áéíóú]/i.test(text)) es += 1;
  return es > en ? 'es' : 'en';
}
