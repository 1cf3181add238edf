// What to do about an annotated message: the likely root cause, the next action, the skills to route to and a reply
// to start from, per intent (and, within an intent, by what the message says).
import type { Lead } from './annotation.ts';
import type { Intent, Language, Severity } from './labels.ts';
import { fold } from './text.ts';

interface Cause { when: RegExp; cause: string; action: string; skills?: string[] }

// First match wins; the last entry of each list has no condition worth naming (it matches anything).
const CAUSES: Record<Intent, Cause[]> = {
  transaction_system_failure: [
    { when: /\b(everyone|whole|all of us|neighbors?|residents|several|vecinos|todos)\b/, cause: 'processor or autopay batch failure affecting many residents', action: 'open an incident with the payment processor and pause the autopay batch; list the affected transactions', skills: ['payments', 'incident_response'] },
    { when: /\b(twice|double|dos veces|two (charges|withdrawals)|duplicate|3 times|three times)\b/, cause: 'duplicate payment submission or processor retry', action: 'check the payment processor record for the transaction id and refund the duplicate charge' },
    { when: /\b(late fee|recargo|nsf|returned payment fee|delinquent)\b/, cause: 'payment posted after the late-fee cutoff or not matched to the ledger', action: 'match the payment to the ledger by its transaction id and reverse the fee if it was paid on time', skills: ['payments', 'billing'] },
    { when: /\b(autopay|auto pay|pago automatico)\b/, cause: 'autopay schedule did not run or is not enrolled', action: 'check the autopay enrollment and the scheduled run in the payment processor' },
    { when: /\b(declined|rechazad\w*|could not be completed|failed|error)\b/, cause: 'charge declined or failed at the processor after authorization', action: 'check the payment processor record for the transaction id and void the authorization if the payment failed' },
    { when: /\b(deposit|deposito|refund\w*|reembolso|devuelt\w*)\b/, cause: 'refund or deposit return not yet processed', action: 'check the refund status and the move-out statement; give the resident a date', skills: ['payments', 'billing'] },
    { when: /\b(pending|processing|procesando|never (showed|posted)|not posted|no he pagado|dice que no)\b/, cause: 'payment stuck in processing or not posted to the ledger', action: 'check the payment processor record for the transaction id and post it to the ledger' },
    { when: /\b(fee|charge|cargo|cobro|statement|estado de cuenta)\b/, cause: 'incorrect charge on the resident ledger', action: 'review the ledger charge against the lease and credit it if it is wrong', skills: ['billing'] },
    { when: /./, cause: 'payment not reconciled between the processor and the ledger', action: 'check the payment processor record for the transaction id' },
  ],
  account_access_issue: [
    { when: /\b(nobody|none of|everyone|whole|neighbors|residents|todos|vecinos)\b/, cause: 'sign-in service outage', action: 'check the portal sign-in service status and open an incident', skills: ['account_access', 'incident_response'] },
    { when: /\b(code|codigo|verification|verificacion|reset|email never|never (arrives|comes|shows)|no (me )?llega|never got)\b/, cause: 'reset or verification messages not delivered', action: 'check email and SMS delivery logs for the account and resend the code' },
    { when: /\b(locked|bloquead\w*|too many attempts|lockout)\b/, cause: 'account locked after failed sign-in attempts', action: 'unlock the account and send a password reset' },
    { when: /\b(activat\w*|invite|invitation|token|register)\b/, cause: 'account invitation not activated or expired', action: 'resend the portal invitation to the email on the lease' },
    { when: /\b(old (email|phone|number)|changed|new (email|phone|number)|cambie|numero viejo)\b/, cause: 'contact details on the account out of date', action: 'verify identity and update the email or phone number on the account' },
    { when: /\b(disabled|deactivated|suspended|no active lease|not found|no account)\b/, cause: 'account deactivated or not linked to the current lease', action: 'relink the account to the current lease in the property system' },
    { when: /./, cause: 'sign-in failure', action: 'verify identity and reset the password' },
  ],
  bug_technical_defect: [
    { when: /\b(whole|everyone|nobody|down|for everyone|households|todos)\b/, cause: 'portal outage', action: 'check the portal status and open an incident', skills: ['technical_support', 'incident_response'] },
    { when: /\b(5\d\d|server)\b/, cause: 'server-side error in the portal', action: 'look up the error in the portal logs by time and account and file a defect' },
    { when: /\b(upload\w*|attach|subir|cargar)\b/, cause: 'file upload failure', action: 'take the file by email and file a defect with the file type and size' },
    { when: /\b(crash\w*|freez\w*|se cierra|closes)\b/, cause: 'mobile app crash', action: 'collect the device and app version and file a defect' },
    { when: /\b(balance|saldo|wrong|equivocad\w*|incorrect|shows|muestra|aparece|spelled|old lease|someone else)\b/, cause: 'stale or incorrect data synced from the property system (ResMan)', action: 'compare the portal with the property system record and resync it' },
    { when: /./, cause: 'portal or app defect', action: 'reproduce the problem and file a defect with the steps' },
  ],
  urgent_high_risk: [
    { when: /\b(gas|carbon monoxide|monoxide)\b/, cause: 'possible gas leak or carbon monoxide', action: 'tell the resident to leave and call 911 or the gas utility; dispatch emergency maintenance', skills: ['emergency_maintenance'] },
    { when: /\b(fire|fuego|smoke|humo|burning|quemado|sparks?|sparking|wires)\b/, cause: 'fire or electrical hazard', action: 'tell the resident to call 911; dispatch emergency maintenance', skills: ['emergency_maintenance'] },
    { when: /\b(elevator|elevador)\b/, cause: 'elevator entrapment or malfunction', action: 'call the elevator service company and 911 if someone is trapped; take the elevator out of service', skills: ['emergency_maintenance'] },
    { when: /\b(heat|heater|calefaccion|degrees|freezing|helando|ac|a\/c)\b/, cause: 'heating or cooling failure in extreme weather', action: 'dispatch emergency maintenance and offer space heaters or a cooling alternative', skills: ['emergency_maintenance'] },
    { when: /\b(water|agua|flood\w*|inund\w*|leak\w*|burst|pipe|sewage|ceiling|techo)\b/, cause: 'water intrusion or plumbing failure', action: 'dispatch emergency maintenance and have the water shut off', skills: ['emergency_maintenance'] },
    { when: /\b(fraud|fraude|identity|ssn|social security|seguro social|scam|estafa|phishing|zelle|breach|leaked|compromised|unauthorized|bank account)\b/, cause: 'fraud or exposure of personal data', action: 'escalate to the security and privacy team; warn residents about the scam if it is one', skills: ['security', 'privacy'] },
    { when: /\b(lawyer|attorney|abogado|sue|lawsuit|demand\w*|court|housing authority|health department|oficina de vivienda|illegal\w*|unlawful|attorney general)\b/, cause: 'legal or regulatory complaint', action: 'escalate to the property manager and legal; keep every record of the issue', skills: ['legal', 'property_management'] },
    { when: /./, cause: 'safety or security incident', action: 'call the resident now; involve security or 911 as needed', skills: ['security'] },
  ],
  how_to_guidance: [],
  noise_low_intent: [],
  unknown: [],
};

const SKILLS: Record<Intent, string[]> = {
  how_to_guidance: ['resident_services'],
  account_access_issue: ['account_access'],
  transaction_system_failure: ['payments'],
  bug_technical_defect: ['technical_support'],
  urgent_high_risk: ['emergency_maintenance'],
  noise_low_intent: [],
  unknown: ['general'],
};

const ACTIONS: Record<Intent, string | null> = {
  how_to_guidance: 'answer from the community knowledge base',
  account_access_issue: null,
  transaction_system_failure: null,
  bug_technical_defect: null,
  urgent_high_risk: null,
  noise_low_intent: null,
  unknown: 'ask the customer what they need',
};

const REPLIES: Record<Intent, Record<Language, string | null>> = {
  how_to_guidance: {
    en: 'Thanks for reaching out! Here is how to do that: ',
    es: '¡Gracias por escribirnos! Así es como puede hacerlo: ',
  },
  account_access_issue: {
    en: "Sorry you're having trouble signing in. We're checking your account now and will send you a new sign-in link shortly.",
    es: 'Lamentamos que no pueda entrar a su cuenta. Ya la estamos revisando y en breve le enviaremos un nuevo enlace de acceso.',
  },
  transaction_system_failure: {
    en: "Sorry about the trouble with your payment. We're looking up the transaction with our payment processor and will get back to you today; you won't be charged a late fee while we check.",
    es: 'Lamentamos el problema con su pago. Estamos revisando la transacción con nuestro procesador de pagos y le responderemos hoy; no se le cobrará recargo mientras lo revisamos.',
  },
  bug_technical_defect: {
    en: "Thanks for letting us know, and sorry for the trouble. We've reported the problem to our technical team; in the meantime the office can help you with it directly.",
    es: 'Gracias por avisarnos y disculpe las molestias. Ya reportamos el problema a nuestro equipo técnico; mientras tanto, la oficina puede ayudarle directamente.',
  },
  urgent_high_risk: {
    en: 'We received your message and are treating it as an emergency. If anyone is in danger, call 911 now. Someone from our team is contacting you right away.',
    es: 'Recibimos su mensaje y lo estamos tratando como una emergencia. Si alguien está en peligro, llame al 911 ahora. Alguien de nuestro equipo se comunicará con usted de inmediato.',
  },
  noise_low_intent: { en: null, es: null },
  unknown: {
    en: 'Thanks for your message! Could you tell us a little more about what you need help with?',
    es: '¡Gracias por su mensaje! ¿Nos podría dar un poco más de detalle sobre lo que necesita?',
  },
};

const MAINTENANCE = /\b(maintenance|mantenimiento|repair|fix|broken|not working|leak\w*|drain\w*|clog\w*|jammed|dripping|no enfria|se salio)\b/;

export interface Advice {
  suspected_root_cause: string | null;
  suggested_action: string | null;
  suggested_reply: string | null;
  suggested_skills: string[];
}

export function advise(intent: Intent, severity: Severity, language: Language, text: string, lead: Lead): Advice {
  const folded = fold(text);
  const cause = CAUSES[intent].find((c) => c.when.test(folded));
  let skills = cause?.skills ?? SKILLS[intent];
  let action = cause?.action ?? ACTIONS[intent];
  let reply = REPLIES[intent][language];
  if (intent === 'how_to_guidance') {
    const isLead = Object.keys(lead).length > 0;
    if (isLead) {
      skills = ['leasing'];
      action = lead.tour_requested ? 'book the tour and confirm it with the prospect' : 'send availability and pricing for the requested floor plan';
      reply = lead.tour_requested
        ? language === 'es' ? '¡Gracias por su interés! Con gusto le mostramos el departamento. Le confirmamos la cita en breve.' : "Thanks for your interest! We'd love to show you around; we'll confirm your tour shortly."
        : language === 'es' ? '¡Gracias por su interés! Le enviamos la disponibilidad y los precios en breve.' : "Thanks for your interest! We'll send you current availability and pricing shortly.";
    } else if (severity === 'P2' || MAINTENANCE.test(folded)) {
      skills = ['maintenance'];
      action = 'create a work order and schedule a visit';
      reply = language === 'es' ? 'Gracias por avisarnos. Ya creamos una orden de mantenimiento y le confirmaremos la visita.' : "Thanks for letting us know. We've created a work order and will confirm the visit time with you.";
    }
  }
  return { suspected_root_cause: cause?.cause ?? null, suggested_action: action, suggested_reply: reply, suggested_skills: [...skills] };
}
