// What the linear models see of a message: lemma unigrams and bigrams (negated words marked), character 3- and
// 4-grams of each word (typos, Spanish, inflections), and a few hand features (lexicons, shouting, ids, amounts).
import type { ItsFunction } from 'wink-nlp';
import { nlp } from './nlp.ts';
import type { Language } from './labels.ts';
import { fold } from './text.ts';

export type FeatureCounts = Map<string, number>;

// Lexicons in both languages (folded: no accents). Each hit adds one `lex:` feature; the model learns their weight.
const LEXICONS: Record<string, RegExp> = {
  login: /\b(log ?in|login|logged|log me|sign ?in|signing in|password|contrasena|reset|verification|verificacion|2 factor|two factor|code|codigo|locked|lockout|bloquead\w*|username|usuario|account (is )?(locked|disabled|suspended|deactivated|not activated)|activat\w*|invite|iniciar sesion|entrar a mi cuenta|session|sesion|face id|pin)\b/,
  money_fail: /\b(fail\w*|didn'?t go through|did not go through|went through|bounced|no paso|no se proceso|declined|rechazad\w*|charged|charge|cobr\w*|double|twice|dos veces|refund\w*|reembolso|devuelt\w*|regres\w*|deposit|deposito|late fee|recargo|fee|cargo|pending|pendiente|processing|procesando|bounced|returned|nsf|overdrawn|withdraw\w*|debited|took|quitaron|took out|never (showed|posted)|not posted|autopay|pago automatico|didn'?t (run|go)|no se hizo|overpa\w*|ledger|statement|estado de cuenta|balance|saldo)\b/,
  defect: /\b(error|crash\w*|freez\w*|frozen|blank|white page|spins?|spinning|loading|won'?t (load|open|let)|doesn'?t (work|do)|does nothing|greyed|grayed|bug|glitch|broken link|upload\w*|subir|cargar|wrong|equivocad\w*|incorrect|shows?|showing|muestra|aparece|app|portal|website|pagina|button|boton|page|field|form|notification\w*|update|se cierra|undefined|corrupt\w*|gibberish)\b/,
  urgent: /\b(gas|smell\w*|huele|fire|fuego|incendio|smoke|humo|burning|quemado|sparks?|spark\w*|flood\w*|inund\w*|pouring|water (is )?(everywhere|coming|pouring|spraying)|agua|burst|leak\w*|sewage|no heat|calefaccion|heater|freezing|helando|degrees|carbon monoxide|co detector|break-?in|broke into|forz\w*|stolen|stole|robbed|thief|police|policia|911|threat\w*|amenaz\w*|kill|knife|cuchillo|gun\w*|weapon|harass\w*|attack\w*|stuck|atrapad\w*|elevator|elevador|fraud|fraude|scam|estafa|phishing|identity|ssn|social security|seguro social|breach|leaked|compromised|unauthorized|lawyer|attorney|abogado|sue|lawsuit|demand\w*|court|housing authority|health department|oficina de vivienda|illegal\w*|unlawful|mold|moho|ceiling|techo|collapse|railing|drown|emergency|emergencia|urgent\w*|asthma)\b/,
  thanks: /\b(thanks?|thank you|thx|ty|gracias|appreciate|awesome|perfect|perfecto|great|love|loved|encant\w*|amazing|best|rock|wonderful|happy|feliz|merry|congrat\w*)\b/,
  greeting: /^(hi|hello|hey|hola|buenas|buenos dias|good morning|yo|test|ok|okay|k|yes|no|sale|bueno)\b/,
  noise: /\b(wrong number|numero equivocado|wrong chat|auto-?reply|automatic reply|respuesta automatica|out of the office|fuera de la oficina|on vacation|unsubscribe|stop|opt out|gift card|claim now|click|bit\.ly|dm me|seo|earn|driving right now|could not be delivered|mailbox full|who is this)\b/,
  leasing: /\b(available|availability|disponible\w*|tour|visit\w*|showing|bedroom|bed|br|bd|studio|estudio|recamara\w*|habitacion\w*|cuartos?|bath|banos?|move in|moving|mudar\w*|mudo|lease|contrato|apply|application|solicitud|rent|renta|price|precio|cuanto|cuesta|budget|presupuesto|pet|pets|mascotas?|dog|cat|perro|gato|deposit|income|requirements|requisitos|section 8|vouchers?)\b/,
  // The things residents and prospects ask about: a message with none of these is likelier off-topic (unknown).
  domain: /\b(rent|renta|lease|leasing|contrato|unit|unidad|apartment|apartamento|apt|departamento|depa|office|oficina|parking|estacionamiento|garage|pool|alberca|piscina|gym|clubhouse|amenit\w*|package\w*|paquete\w*|mail ?room|maintenance|mantenimiento|work orders?|portal|app|aplicacion|website|autopay|payments?|pagos?|pagar|paid|pay|pague|balance|ledger|fees?|deposit\w*|refund\w*|pets?|mascotas?|trash|basura|keys?|llaves?|fob|gate|move[ -]?(in|out)|mudanza|mudar\w*|tour|visit\w*|bedrooms?|recamaras?|studio|estudio|application|solicitud|renew\w*|roommate|guest\w*|visitas|neighbors?|vecinos?|building|edificio|insurance|seguro|utilit\w*|wifi|internet|noise|ruido|login|log in|password|contrasena|account|cuenta)\b/,
  question: /\?|\b(how|what|when|where|can i|do you|is there|are we|como|que|cuando|donde|cual|puedo|se puede)\b/,
  maintenance: /\b(maintenance|mantenimiento|repair|fix|broken|not working|no funciona|no sirve|dishwasher|disposal|sink|faucet|toilet|drain\w*|ac|a\/c|air conditioning|washer|dryer|light|window|lock|door|closet|fridge|refrigerador|no enfria)\b/,
  anger: /\b(ridiculous|unacceptable|unbelievable|garbage|useless|worst|terrible|pathetic|joke|fix (this|it|your)|now\b|immediately|today or|disputing|dispute|sue|lawyer|again|smh|wtf|damn|hell|no sirve|culpa|ya\b|never|nobody|no one|tired of)\b/,
  worry: /\b(scared|afraid|worried|stress\w*|panick\w*|miedo|please|por favor|help|ayuda|asap|urgent\w*)\b/,
  many: /\b(everyone|everybody|nobody in|none of|all of us|whole (building|community|complex|website)|neighbors?|vecinos|residents|households|building [a-z]\b|entire|for everyone|todos)\b/,
  deadline: /\b(due (today|tomorrow)|rent is due|rent due|today'?s the last day|last day|deadline|late fee|before the late|vence|recargo|hoy es dia de pago|dia de pago|by friday|expires?|before the \d|antes del|manana vence|need to pay|tengo que pagar|have to pay)\b/,
};

const round = (n: number) => Math.round(n * 1000) / 1000;

function add(f: FeatureCounts, key: string, value = 1): void {
  f.set(key, (f.get(key) ?? 0) + value);
}

export interface Analysis {
  features: FeatureCounts;
  /** winkNLP's sentiment of the text in [-1, 1] (its lexicon is English: undefined for Spanish). */
  winkSentiment: number | undefined;
}

/** Feature counts of a cleaned message. The same function serves training and prediction. */
export function analyze(text: string, channel: string, language: Language): Analysis {
  const f: FeatureCounts = new Map();
  const doc = nlp().readDoc(text);
  const its = nlp().its;
  const values = doc.tokens().out();
  const types = doc.tokens().out(its.type) as string[];
  // winkNLP's typings give lemma an addons parameter its ItsFunction type does not accept; it is one at run time.
  const lemmas = doc.tokens().out(its.lemma as unknown as ItsFunction<string>) as string[];
  const negated = doc.tokens().out(its.negationFlag) as unknown as boolean[];
  const words: string[] = [];
  for (const [i, type] of types.entries()) {
    let w: string;
    if (type === 'word') w = fold(language === 'en' ? lemmas[i]! : values[i]!);
    else if (type === 'number' || type === 'ordinal') w = '<num>';
    else if (type === 'currency') w = '<cur>';
    else if (type === 'emoji' || type === 'emoticon') w = '<emoji>';
    else if (type === 'url' || type === 'email') w = '<url>';
    else if (type === 'time') w = '<time>';
    else if (type === 'punctuation') {
      const p = values[i]!;
      if (p === '?' || p === '!' || p === '¿' || p === '¡') w = p === '¿' ? '?' : p === '¡' ? '!' : p;
      else continue;
    } else continue;
    words.push(negated[i] && type === 'word' ? `not_${w}` : w);
  }
  for (const w of words) add(f, `w:${w}`);
  for (let i = 0; i + 1 < words.length; i++) add(f, `b:${words[i]}_${words[i + 1]}`);
  const folded = fold(text);
  const chars = new Map<string, number>();
  for (const word of folded.match(/[a-z0-9ñ]+/g) ?? []) {
    const padded = `<${word}>`;
    for (const n of [3, 4]) for (let i = 0; i + n <= padded.length; i++) chars.set(padded.slice(i, i + n), (chars.get(padded.slice(i, i + n)) ?? 0) + 1);
  }
  // Character n-grams are many per word: scaled so together they weigh about as much as the words.
  const charScale = 1 / Math.sqrt(Math.max(1, chars.size / Math.max(1, words.length)));
  for (const [g, c] of chars) add(f, `c:${g}`, round(Math.min(c, 3) * charScale));
  for (const [name, re] of Object.entries(LEXICONS)) {
    const hits = folded.match(new RegExp(re.source, 'g'))?.length ?? 0;
    if (hits) add(f, `lex:${name}`, Math.min(3, hits));
  }
  add(f, `ch:${channel}`);
  add(f, `lang:${language}`);
  const n = words.filter((w) => !w.startsWith('<') && w !== '?' && w !== '!').length;
  add(f, `len:${n <= 2 ? 'tiny' : n <= 6 ? 'short' : n <= 25 ? 'medium' : 'long'}`);
  const letters = text.replace(/[^A-Za-zÁÉÍÓÚÑáéíóúñ]/g, '');
  const upper = letters.replace(/[^A-ZÁÉÍÓÚÑ]/g, '').length;
  if (letters.length >= 8 && upper / letters.length > 0.5) add(f, 'shouting');
  const capsWords = (text.match(/\b[A-Z]{3,}\b/g) ?? []).filter((w) => !/^(TXN|PMT|CNF|ASAP|SSN|HOA|USB|ATM|PDF|CSV|ACH|NSF|SEO|AC|ER|ID|HVAC|ITIN|USA|USD|DM|OK)$/.test(w)).length;
  if (capsWords) add(f, 'caps_words', Math.min(3, capsWords));
  const bangs = (text.match(/!/g) ?? []).length;
  if (bangs >= 2) add(f, 'bangs');
  if (/[?!]{2,}/.test(text)) add(f, 'repeated_punct');
  if (/^\W*$/u.test(folded.replace(/[\p{Emoji}\s]/gu, '')) && /\p{Extended_Pictographic}/u.test(text)) add(f, 'emoji_only');
  if (/\$\s?\d|\b\d+\s?(dollars|dolares)\b/i.test(text)) add(f, 'money');
  if (/\b(?:TXN|TX|PMT|CNF|RP|SD)-?\d|\b(confirmation|conf|ref|referencia|receipt)\b/i.test(text)) add(f, 'txn_id');
  if (/\b(?:error|code)\s*[:#]?\s*[A-Z]{0,3}-?\d{2,5}\b|\bE\d{3,5}\b/i.test(text)) add(f, 'error_code');
  let winkSentiment: number | undefined;
  if (language === 'en') {
    const s = doc.out(its.sentiment) as unknown as number;
    winkSentiment = s;
    add(f, `wink_sent:${s <= -0.4 ? 'vneg' : s < -0.05 ? 'neg' : s <= 0.05 ? 'zero' : s < 0.4 ? 'pos' : 'vpos'}`);
  }
  return { features: f, winkSentiment };
}

/** The severity model also sees the intent (gold when training, predicted when annotating) as this feature. */
export const intentFeature = (intent: string) => `intent:${intent}`;
