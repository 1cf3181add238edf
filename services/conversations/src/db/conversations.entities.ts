import { defineEntity, p } from '@mikro-orm/core';
import { CHANNELS, CONVERSATION_STATES, LEAD_STATUSES, SEVERITIES, sqlIn, type Channel, type ConversationState, type LeadStatus, type Severity, type SlaTier } from '@domiq/proto/vocabulary';

/** A message's channel: a customer channel, or `internal` for what agents write among themselves (seed). */
export const MESSAGE_CHANNELS = [...CHANNELS, 'internal'] as const;
export type MessageChannel = (typeof MESSAGE_CHANNELS)[number];
/** The state machine's states are the check constraint's (a new state needs a migration of the constraint). */
export const STATES = CONVERSATION_STATES;

/** Seed §2. customer_id, assigned_* and resolution_id are other services' ids: no foreign keys across services. */
export const Conversation = defineEntity({
  name: 'Conversation',
  tableName: 'conversations',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    propertyId: p.uuid().nullable(),
    customerId: p.uuid().index('idx_conversations_customer'),
    state: p.string().length(30).$type<ConversationState>().default('open').index('idx_conversations_state'),
    previousState: p.string().length(30).$type<ConversationState>().nullable(),
    channelsUsed: p.array().default([]),
    currentChannel: p.string().length(30).$type<Channel>().nullable(),
    initialChannel: p.string().length(30).$type<Channel>(),
    assignedAgentId: p.uuid().nullable().index('idx_conversations_assigned_agent'),
    assignedTeamId: p.uuid().nullable().index('idx_conversations_assigned_team'),
    intent: p.string().length(50).nullable(),
    severity: p.string().length(10).$type<Severity>().nullable().index('idx_conversations_severity'),
    sentiment: p.string().length(20).nullable(),
    requiredSkills: p.array().default([]),
    slaTier: p.string().length(20).$type<SlaTier>().default('standard'),
    firstResponseAt: p.datetime().nullable(),
    firstResponseDueAt: p.datetime().nullable(),
    resolutionDueAt: p.datetime().nullable(),
    slaBreached: p.boolean().default(false),
    resolutionId: p.uuid().nullable(),
    subject: p.string().length(500).nullable(),
    summary: p.text().nullable(),
    tags: p.array().default([]),
    metadata: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    messageCount: p.integer().default(0),
    internalNoteCount: p.integer().default(0),
    lastMessageAt: p.datetime().nullable(),
    lastCustomerMessageAt: p.datetime().nullable(),
    lastAgentMessageAt: p.datetime().nullable(),
    resolvedAt: p.datetime().nullable(),
    reopenedAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
  indexes: [
    { name: 'idx_conversations_account_customer', properties: ['accountId', 'customerId', 'lastMessageAt'] },
    { name: 'idx_conversations_created', properties: ['createdAt'] },
    { name: 'idx_conversations_last_message', properties: ['lastMessageAt'] },
  ],
  checks: [
    { name: 'conversations_state_check', expression: sqlIn('state', STATES) },
    { name: 'conversations_severity_check', expression: sqlIn('severity', SEVERITIES) },
    { name: 'conversations_sentiment_check', expression: `sentiment in ('positive', 'neutral', 'negative', 'angry')` },
  ],
});

/** Seed §3. */
export const Message = defineEntity({
  name: 'Message',
  tableName: 'messages',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    // Same service, so a real relation (the seed's FK, cascade on delete); it also makes the unit of work
    // insert a new conversation before its first message, which the message-count trigger needs.
    conversation: () => p.manyToOne(Conversation).deleteRule('cascade').index('idx_messages_conversation'),
    channel: p.string().length(30).$type<MessageChannel>().index('idx_messages_channel'),
    direction: p.string().length(10).index('idx_messages_direction'),
    senderType: p.string().length(20),
    senderId: p.uuid().nullable(),
    contentType: p.string().length(30).default('text'),
    content: p.text(),
    contentHtml: p.text().nullable(),
    voiceRecordingUrl: p.text().nullable(),
    voiceDurationSeconds: p.integer().nullable(),
    channelMessageId: p.string().length(255).nullable(),
    channelMetadata: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    parentMessageId: p.uuid().nullable(),
    threadId: p.uuid().nullable().index('idx_messages_thread'),
    aiProcessed: p.boolean().default(false),
    aiAnnotations: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    status: p.string().length(20).default('sent'),
    errorMessage: p.text().nullable(),
    /** An agent reply's client-chosen key (SendReply): unique per account (partial index), so a retried call sends once. */
    idempotencyKey: p.string().length(100).nullable(),
    /** When the message happened (for inbound: when DomIQ received it); the timeline is ordered by it. */
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()).index('idx_messages_created'),
    /** When this service stored it; stored_at - created_at is the ingest lag. Set by the database. */
    storedAt: p.datetime().defaultRaw('clock_timestamp()').nullable(),
    deliveredAt: p.datetime().nullable(),
    readAt: p.datetime().nullable(),
  },
  // Search walks it backwards for the newest matches of common words (db/message-search.repository.ts).
  indexes: [{ name: 'idx_messages_account_created', properties: ['accountId', 'createdAt'] }],
  checks: [
    { name: 'messages_channel_check', expression: sqlIn('channel', MESSAGE_CHANNELS) },
    { name: 'messages_direction_check', expression: `direction in ('inbound', 'outbound', 'internal')` },
    { name: 'messages_sender_type_check', expression: `sender_type in ('customer', 'agent', 'system', 'ai')` },
    { name: 'messages_content_type_check', expression: `content_type in ('text', 'html', 'markdown', 'voice_transcript', 'system_event')` },
    { name: 'messages_status_check', expression: `status in ('pending', 'sent', 'delivered', 'read', 'failed')` },
  ],
});

/** Seed §4. */
export const Attachment = defineEntity({
  name: 'Attachment',
  tableName: 'attachments',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    messageId: p.uuid().index('idx_attachments_message'),
    filename: p.string().length(255),
    originalFilename: p.string().length(255),
    contentType: p.string().length(100).index('idx_attachments_content_type'),
    sizeBytes: p.bigint('number'),
    storageProvider: p.string().length(50).default('local'),
    storageUrl: p.text(),
    storageKey: p.text(),
    isImage: p.boolean().default(false),
    thumbnailUrl: p.text().nullable(),
    dimensions: p.json<{ width: number; height: number }>().nullable(),
    virusScanned: p.boolean().default(false),
    virusScanResult: p.string().length(20).nullable(),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    expiresAt: p.datetime().nullable(),
  },
  checks: [{ name: 'attachments_storage_provider_check', expression: `storage_provider in ('local', 's3', 'minio', 'gcs')` }],
});

/** Seed §5 (the AI annotator that fills it comes in a later issue). */
export const AiAnnotation = defineEntity({
  name: 'AiAnnotation',
  tableName: 'ai_annotations',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    messageId: p.uuid().index('idx_ai_annotations_message'),
    intent: p.string().length(50).index('idx_ai_annotations_intent'),
    intentConfidence: p.decimal('number').columnType('numeric(3,2)'),
    severity: p.string().length(10).$type<Severity>().index('idx_ai_annotations_severity'),
    severityConfidence: p.decimal('number').columnType('numeric(3,2)'),
    sentiment: p.string().length(20),
    sentimentScore: p.decimal('number').columnType('numeric(4,3)').nullable(),
    entities: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    suspectedRootCause: p.text().nullable(),
    suggestedAction: p.text().nullable(),
    suggestedResponse: p.text().nullable(),
    suggestedKbArticles: p.array().nullable(),
    suggestedSkills: p.array().nullable(),
    suggestedTeamId: p.uuid().nullable(),
    escalationRecommended: p.boolean().default(false),
    modelVersion: p.string().length(50),
    processingTimeMs: p.integer().nullable(),
    humanCorrected: p.boolean().default(false).index('idx_ai_annotations_human_corrected'),
    correctedById: p.uuid().nullable(),
    correctedAt: p.datetime().nullable(),
    correctionNotes: p.text().nullable(),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
  // One machine annotation per message and model version: a replayed message.created annotates nothing twice.
  uniques: [{ name: 'uq_ai_annotations_message_model', properties: ['messageId', 'modelVersion'] }],
  checks: [
    { name: 'ai_annotations_intent_check', expression: `intent in ('how_to_guidance', 'account_access_issue', 'transaction_system_failure', 'bug_technical_defect', 'urgent_high_risk', 'noise_low_intent', 'unknown')` },
    { name: 'ai_annotations_intent_confidence_check', expression: 'intent_confidence >= 0 and intent_confidence <= 1' },
    { name: 'ai_annotations_severity_check', expression: sqlIn('severity', SEVERITIES) },
    { name: 'ai_annotations_sentiment_check', expression: `sentiment in ('positive', 'neutral', 'negative', 'angry')` },
  ],
});

/** Seed §11. */
export const InternalNote = defineEntity({
  name: 'InternalNote',
  tableName: 'internal_notes',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    conversationId: p.uuid().nullable().index('idx_internal_notes_conversation'),
    resolutionId: p.uuid().nullable().index('idx_internal_notes_resolution'),
    content: p.text(),
    visibility: p.string().length(20).default('team'),
    authorId: p.uuid().index('idx_internal_notes_author'),
    mentions: p.array().default([]),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
  checks: [
    { name: 'internal_notes_visibility_check', expression: `visibility in ('private', 'team', 'all')` },
    { name: 'chk_note_link', expression: 'conversation_id is not null or resolution_id is not null' },
  ],
});

/**
 * The leasing lead of a conversation at a property (issue 8; what the ResMan connector syncs). One row per conversation,
 * written the first time something about the lead changes (until then GetLead answers the defaults). `version` is
 * DomIQ's data version of the lead: +1 on every change, compared by the connector's lead_sync_mapping.sync_version.
 */
export const Lead = defineEntity({
  name: 'Lead',
  tableName: 'leads',
  properties: {
    conversationId: p.uuid().primary(),
    accountId: p.uuid(),
    propertyId: p.uuid().index('idx_leads_property'),
    customerId: p.uuid().index('idx_leads_customer'),
    status: p.string().length(30).$type<LeadStatus>().default('new'),
    lostReason: p.text().nullable(),
    aiIntentSummary: p.text().nullable(),
    isQualified: p.boolean().default(false),
    isBookTour: p.boolean().default(false),
    tourAt: p.datetime().nullable(),
    leadSource: p.string().length(100).nullable(),
    /** yyyy-mm-dd, or yyyy-mm when only the month is known. */
    moveIn: p.string().length(10).nullable(),
    bedrooms: p.decimal('number').columnType('numeric(3,1)').nullable(),
    bathrooms: p.decimal('number').columnType('numeric(3,1)').nullable(),
    rentMin: p.integer().nullable(),
    rentMax: p.integer().nullable(),
    pets: p.json<Array<{ type: string; count: number }>>().defaultRaw(`'[]'`),
    occupants: p.integer().nullable(),
    desiredUnit: p.string().length(50).nullable(),
    desiredFloorplan: p.string().length(100).nullable(),
    version: p.integer().default(0),
    updatedBy: p.string().length(100).nullable(),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
  indexes: [{ name: 'idx_leads_account_status', properties: ['accountId', 'status'] }],
  checks: [
    { name: 'leads_status_check', expression: sqlIn('status', LEAD_STATUSES) },
    { name: 'leads_lost_reason_check', expression: `status <> 'lost' or lost_reason is not null` },
  ],
});

/**
 * What a customer merge re-pointed here (identity.customer.merged): each conversation moved from the merge's source
 * customer to its target, so the unmerge moves exactly those back (conversations the target started since stay). A
 * row with conversation_id null is the merge itself, kept with undone_at when the unmerge came first (the two events
 * travel on different subjects, so their order is not guaranteed): a merge already undone re-points nothing.
 */
export const CustomerRepoint = defineEntity({
  name: 'CustomerRepoint',
  tableName: 'customer_repoints',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    mergeId: p.uuid().index('idx_customer_repoints_merge'),
    conversationId: p.uuid().nullable(),
    fromCustomerId: p.uuid(),
    toCustomerId: p.uuid(),
    repointedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    undoneAt: p.datetime().nullable(),
  },
  uniques: [{ name: 'uq_customer_repoints_merge_conversation', properties: ['mergeId', 'conversationId'] }],
});

/**
 * The customers' consent per channel as identity last published it (identity.customer.consent_changed): a read model,
 * so a reply can be refused without a call to identity. Status null: no consent on record (an unmerge took it back).
 */
export const CustomerConsent = defineEntity({
  name: 'CustomerConsent',
  tableName: 'customer_consents',
  properties: {
    accountId: p.uuid().primary(),
    customerId: p.uuid().primary(),
    channel: p.string().length(30).primary(),
    status: p.string().length(20).nullable(),
    recordedAt: p.datetime(),
  },
});

export type ConversationRow = InstanceType<typeof Conversation.class>;
export type LeadRow = InstanceType<typeof Lead.class>;
export type InternalNoteRow = InstanceType<typeof InternalNote.class>;
export type AiAnnotationRow = InstanceType<typeof AiAnnotation.class>;
export type MessageRow = InstanceType<typeof Message.class>;

export const conversationsEntities = [Conversation, Message, Attachment, AiAnnotation, InternalNote, Lead, CustomerRepoint, CustomerConsent];
