export { AnnotationInputError, createAnnotator, validateInput, type Annotator } from './annotator.ts';
export type { Annotation, AnnotationInput, Entities, Lead, Pet } from './annotation.ts';
export { CHANNELS, INTENTS, SENTIMENTS, SEVERITIES, type Intent, type Sentiment, type Severity } from './labels.ts';
