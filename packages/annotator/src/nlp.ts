// One winkNLP instance per process, created on first use: its English model (tokens, lemmas, negation, sentiment)
// costs about 150 ms and some 30 MB to load, so neither importing this package nor a process that never annotates
// pays for it.
import { createRequire } from 'node:module';
import winkNLP, { type Model, type WinkMethods } from 'wink-nlp';

const require = createRequire(import.meta.url);
let instance: WinkMethods | undefined;

export function nlp(): WinkMethods {
  instance ??= winkNLP(require('wink-eng-lite-web-model') as Model);
  return instance;
}
