// Plain objects to YAML text with comments: the deploy template (./services.ts) writes each Kubernetes object as a
// TypeScript literal and wraps a value in `why(...)` where the manifest should explain itself, so the comments
// live in the template next to what they explain and reach every rendered file.
import { Document, isMap, isSeq, type Node, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';

const NOTE = Symbol('note');

interface Noted {
  readonly [NOTE]: true;
  /** Comment lines before the key (in a map) or the item (in a list). */
  readonly before?: string;
  /** Comment at the end of the line (scalars only). */
  readonly after?: string;
  readonly flow?: boolean;
  readonly value: unknown;
}

const isNoted = (v: unknown): v is Noted => typeof v === 'object' && v !== null && NOTE in v;

/** `value`, with `comment` (one or more lines) written above its key or list item. */
export const why = <T>(comment: string, value: T): T => ({ [NOTE]: true, before: comment, value }) as unknown as T;

/** `value`, with `comment` at the end of its line. */
export const trailing = <T>(comment: string, value: T): T => ({ [NOTE]: true, after: comment, value }) as unknown as T;

/** A list written on one line, its strings double-quoted: `["sleep", "10"]`. */
export const flow = <T extends readonly unknown[]>(value: T): T => ({ [NOTE]: true, flow: true, value }) as unknown as T;

/** A `# ...` comment block's text as the yaml library stores it: each line prefixed with one space. */
const commentText = (text: string) =>
  text
    .split('\n')
    .map((l) => (l === '' ? '' : ` ${l}`))
    .join('\n');

function toNode(doc: Document, value: unknown): { node: Node; before?: string } {
  if (isNoted(value)) {
    const inner = toNode(doc, value.value);
    if (value.flow && isSeq(inner.node)) {
      inner.node.flow = true;
      for (const item of inner.node.items) if (item instanceof Scalar && typeof item.value === 'string') item.type = Scalar.QUOTE_DOUBLE;
    }
    if (value.after !== undefined) inner.node.comment = commentText(value.after);
    const before = [value.before, inner.before].filter((c): c is string => c !== undefined).join('\n');
    return before ? { node: inner.node, before } : { node: inner.node };
  }
  if (Array.isArray(value)) {
    const seq = new YAMLSeq();
    for (const item of value) {
      if (item === undefined) continue;
      const { node, before } = toNode(doc, item);
      if (before !== undefined) node.commentBefore = commentText(before);
      seq.items.push(node);
    }
    return { node: seq };
  }
  if (typeof value === 'object' && value !== null) {
    const map = new YAMLMap();
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue; // lets the template write `key: condition ? value : undefined`
      const { node, before } = toNode(doc, item);
      const keyNode = new Scalar(key);
      if (before !== undefined) keyNode.commentBefore = commentText(before);
      map.items.push(new Pair(keyNode, node));
    }
    return { node: map };
  }
  return { node: doc.createNode(value) as Node };
}

/** One YAML document (no leading `---`); a `why(...)` around the whole object becomes its header comment. */
export function toYamlDocument(value: unknown): string {
  // YAML 1.1 rules for quoting: kubectl's parser reads an unquoted `on`, `yes` or `n` as a boolean.
  const doc = new Document(null, { version: '1.1' });
  const { node, before } = toNode(doc, value);
  if (before !== undefined) {
    // On the first key rather than on the document, so no blank line separates the comment from the object.
    const first = isMap(node) ? node.items[0]?.key : undefined;
    if (first instanceof Scalar) first.commentBefore = [commentText(before), first.commentBefore].filter(Boolean).join('\n');
    else doc.commentBefore = commentText(before);
  }
  doc.contents = node as Document['contents'];
  return doc.toString({ indent: 2, indentSeq: true, lineWidth: 0, flowCollectionPadding: false });
}

/** Several documents in one file, separated by `---`. */
export function toYamlStream(values: readonly unknown[]): string {
  return values.map(toYamlDocument).join('---\n');
}

/** The value without its comments (and without `undefined` entries): what a YAML parser reads back. */
export function plain(value: unknown): unknown {
  if (isNoted(value)) return plain(value.value);
  if (Array.isArray(value)) return value.filter((v) => v !== undefined).map(plain);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}
