import { Counter, Gauge, Histogram } from 'prom-client';

export const metrics = {
  published: new Counter({ name: 'domiq_events_published_total', help: 'Outbox rows published to JetStream' }),
  consumed: new Counter({ name: 'domiq_events_consumed_total', help: 'Events handled, by consumer and outcome', labelNames: ['consumer', 'outcome'] }),
  handleSeconds: new Histogram({ name: 'domiq_event_handle_seconds', help: 'Time to handle one event (transaction included)', labelNames: ['consumer'], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] }),
  consumerRestarts: new Counter({ name: 'domiq_consumer_restarts_total', help: 'Times a consumer\'s pull loop ended and was started again', labelNames: ['consumer'] }),
  deadLetterFailed: new Counter({ name: 'domiq_dead_letter_failures_total', help: 'Dead-letter publishes that failed (the event stays in its stream and is retried)', labelNames: ['consumer'] }),
  workingLimitExceeded: new Counter({ name: 'domiq_consumer_working_limit_exceeded_total', help: 'Handlers still running after CONSUMER_MAX_WORKING_MS (the event is redelivered)', labelNames: ['consumer'] }),
  relayActive: new Gauge({ name: 'domiq_outbox_relay_active', help: 'Outbox relays of this process holding their schema\'s publishing lock (one relay per schema publishes at a time)' }),
  relayInFlight: new Gauge({ name: 'domiq_outbox_in_flight', help: 'Outbox publishes sent and awaiting their JetStream ack' }),
  relayRestarts: new Counter({
    name: 'domiq_outbox_publish_restarts_total',
    help: 'Relay runs stopped by a publish that was not acknowledged and restarted from the first unrecorded row; reason "chain": only a later row refused because an earlier one was not the stream\'s last',
    labelNames: ['reason'],
  }),
  relayOvertaken: new Counter({ name: 'domiq_outbox_overtaken_transactions_total', help: 'Transactions that held lower outbox ids longer than the relay waits: events committed after them may be published before theirs' }),
  relayHorizonLooks: new Counter({
    name: 'domiq_outbox_horizon_looks_total',
    help: 'Relay reads of committed rows, by how the commit horizon was found: "contiguous" from the rows themselves (one statement), "locks" from the transactions inserting (a gap in the ids)',
    labelNames: ['kind'],
  }),
  relayLate: new Counter({ name: 'domiq_outbox_late_published_total', help: 'Outbox rows published after rows with higher ids (found by the sweep: they committed late)' }),
};
