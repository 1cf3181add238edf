import { describe, expect, it } from 'vitest';
import { events, streamForSubject, streams } from '../src/events.ts';
import { identityEvents } from '../src/events/identity.events.ts';
import { conversationsEvents } from '../src/events/conversations.events.ts';
import { routingSlaEvents } from '../src/events/routing-sla.events.ts';
import { resolutionsEvents } from '../src/events/resolutions.events.ts';
import { resmanConnectorEvents } from '../src/events/resman-connector.events.ts';
import { channelGatewayEvents } from '../src/events/channel-gateway.events.ts';
import { registry, SERVICE_NAMES, services } from '../src/services.ts';

const owners = { identity: identityEvents, conversations: conversationsEvents, 'routing-sla': routingSlaEvents, resolutions: resolutionsEvents, 'resman-connector': resmanConnectorEvents, 'channel-gateway': channelGatewayEvents };

describe('the event catalog', () => {
  it('spells every subject with its owner\'s name and keeps it in the owner\'s one stream', () => {
    for (const [name, contract] of Object.entries(events)) {
      expect(contract.subject, name).toBe(`${contract.owner}.${contract.eventType}`);
      expect(contract.subject, name).toMatch(/^[a-z-]+\.[a-z_]+\.[a-z_]+$/);
      expect(registry[contract.owner].streams, name).toEqual([streamForSubject(contract.subject)]);
    }
  });

  it('joins the owners\' files without losing or overriding an event', () => {
    const total = Object.values(owners).reduce((n, o) => n + Object.keys(o).length, 0);
    expect(Object.keys(events)).toHaveLength(total);
    for (const [owner, list] of Object.entries(owners)) for (const c of Object.values(list)) expect(c.owner).toBe(owner);
  });

  it('has one stream per service, named after it, and the dead-letter stream', () => {
    expect(Object.keys(streams).sort()).toEqual([...SERVICE_NAMES.map((n) => n.replaceAll('-', '_').toUpperCase()), 'DLQ'].sort());
    for (const s of services) {
      expect(s.schema).toBe(s.name.replaceAll('-', '_'));
      expect(s.grpcService).toMatch(new RegExp(`^domiq\\.${s.schema}\\.v1\\.`));
      expect(s.addrVar).toBe(`${s.schema.toUpperCase()}_GRPC_ADDR`);
      for (const c of s.consumers) expect(c.durable.startsWith(`${s.name}-`), c.durable).toBe(true);
    }
  });
});
