// `npm run annotate`: JSON lines {"id","channel","text","sent_at"} on stdin, one JSON line per input on stdout,
// streamed. A line that is not a valid message gives {"id": <id or null>, "error": "..."} and the run goes on;
// exit 0 at the end of input.
import { createInterface } from 'node:readline';
import { AnnotationInputError, createAnnotator, validateInput } from './annotator.ts';

export async function runCli(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<void> {
  const annotator = createAnnotator();
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (!line.trim()) continue;
    const out = annotateLine(annotator, line, n);
    // Wait for the pipe when it is full, so a slow reader does not make us buffer everything.
    if (!output.write(`${JSON.stringify(out)}\n`)) await new Promise((resolve) => output.once('drain', resolve));
  }
}

function annotateLine(annotator: ReturnType<typeof createAnnotator>, line: string, n: number): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { id: null, error: `line ${n}: not valid JSON` };
  }
  const id = typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : null;
  try {
    const a = annotator.annotate(validateInput(raw));
    return {
      id: a.id, intent: a.intent, intent_confidence: a.intent_confidence, severity: a.severity, sentiment: a.sentiment,
      sentiment_score: a.sentiment_score, entities: a.entities, lead: a.lead,
    };
  } catch (err) {
    if (err instanceof AnnotationInputError) return { id, error: `line ${n}: ${err.message}` };
    throw err;
  }
}

if (import.meta.main) {
  await runCli(process.stdin, process.stdout);
}
