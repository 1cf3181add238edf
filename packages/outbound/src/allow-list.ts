// DOMIQ_ALLOWED_TARGETS: the operator's exceptions to the public-address rule (and to https-only), e.g. the
// local ResMan simulator. Comma-separated entries:
//   host:port / host        a host name (any address it resolves to) or an IP literal; without port, any port
//   [v6]:port / [v6] / v6   an IPv6 literal
//   a.b.c.d/n / v6/n        a CIDR block (any port)
import ipaddr from 'ipaddr.js';
import { canonicalAddress, isIpLiteral } from './address.ts';

export type AllowEntry =
  | { kind: 'name'; host: string; port: number | null; text: string }
  | { kind: 'address'; address: ipaddr.IPv4 | ipaddr.IPv6; port: number | null; text: string }
  | { kind: 'cidr'; range: [ipaddr.IPv4 | ipaddr.IPv6, number]; text: string };

export interface AllowList {
  readonly entries: readonly AllowEntry[];
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** Lower case, no trailing dot, no brackets. */
export function normaliseHost(host: string): string {
  return host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

function parsePort(text: string, entry: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new Error(`${entry}: port must be 1-65535`);
  return port;
}

function hostEntry(host: string, port: number | null, text: string): AllowEntry {
  if (isIpLiteral(host)) return { kind: 'address', address: canonicalAddress(host), port, text };
  const name = normaliseHost(host);
  if (!HOSTNAME.test(name)) throw new Error(`${text}: not a host name, IP address or CIDR block`);
  return { kind: 'name', host: name, port, text };
}

function parseEntry(text: string): AllowEntry {
  if (text.includes('/')) {
    if (!ipaddr.isValidCIDR(text)) throw new Error(`${text}: not a valid CIDR block`);
    const [base, bits] = ipaddr.parseCIDR(text);
    // A CIDR written in IPv4-mapped form covers the IPv4 addresses it maps.
    const range: [ipaddr.IPv4 | ipaddr.IPv6, number] =
      base.kind() === 'ipv6' && (base as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96 ? [(base as ipaddr.IPv6).toIPv4Address(), bits - 96] : [base, bits];
    return { kind: 'cidr', range, text };
  }
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    if (!ipaddr.IPv6.isValid(bracketed[1]!)) throw new Error(`${text}: not a valid IPv6 address`);
    return hostEntry(bracketed[1]!, bracketed[2] === undefined ? null : parsePort(bracketed[2], text), text);
  }
  if (ipaddr.IPv6.isValid(text)) return hostEntry(text, null, text);
  const colon = text.lastIndexOf(':');
  if (colon >= 0) return hostEntry(text.slice(0, colon), parsePort(text.slice(colon + 1), text), text);
  return hostEntry(text, null, text);
}

/** Parses DOMIQ_ALLOWED_TARGETS; throws naming the first bad entry. Empty or unset: nothing is excepted. */
export function parseAllowedTargets(value: string | undefined): AllowList {
  const entries = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(parseEntry);
  return { entries };
}

const portMatches = (entryPort: number | null, port: number) => entryPort === null || entryPort === port;

/** A host-name entry names this URL host (and port). */
export function allowsName(list: AllowList, host: string, port: number): boolean {
  const name = normaliseHost(host);
  return list.entries.some((e) => e.kind === 'name' && e.host === name && portMatches(e.port, port));
}

/** An address or CIDR entry covers this address (and port). */
export function allowsAddress(list: AllowList, address: string, port: number): boolean {
  const ip = canonicalAddress(address);
  return list.entries.some((e) => {
    if (e.kind === 'address') return e.address.kind() === ip.kind() && e.address.toNormalizedString() === ip.toNormalizedString() && portMatches(e.port, port);
    if (e.kind === 'cidr') return e.range[0].kind() === ip.kind() && ip.match(e.range);
    return false;
  });
}
