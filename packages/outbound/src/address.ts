// Is an IP address one a tenant-configured URL may make us connect to? Only public unicast addresses are.
// Classification comes from ipaddr.js; what is added here is the policy: which of its ranges are refused, and
// looking inside the IPv6 forms that carry an IPv4 address (mapped, 6to4, NAT64, IPv4-compatible).
import ipaddr from 'ipaddr.js';

export interface AddressClass {
  /** The address as it will be dialled (zone id dropped, IPv6 in RFC 5952 form). */
  address: string;
  family: 4 | 6;
  /** True only for public (globally routable) unicast addresses. */
  public: boolean;
  /** ipaddr.js's range name (`unicast`, `loopback`, `private`, `linkLocal`, ...); for an IPv6 form that embeds an
   * IPv4 address, `<form>:<range of the IPv4 address>`, e.g. `ipv4Mapped:loopback`, `6to4:private`. */
  range: string;
}

const V6_GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');
const V6_IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR('::/96');
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96');

/**
 * Brackets and zone id dropped; an IPv6 address with a dotted tail rewritten by the WHATWG URL parser, because
 * ipaddr.js reads `::a.b.c.d` as the mapped `::ffff:a.b.c.d` while the kernel dials `::a.b.c.d`.
 */
function plainText(input: string): string {
  const raw = input.trim().replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (!raw.includes(':') || !raw.includes('.')) return raw;
  try {
    return new URL(`http://[${raw}]/`).hostname.slice(1, -1);
  } catch {
    return raw;
  }
}

function v4FromParts(hi: number, lo: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
}

function classifyV4(ip: ipaddr.IPv4): { public: boolean; range: string } {
  const range = ip.range();
  return { public: range === 'unicast', range };
}

/** The IPv4 address an IPv6 form carries, and the form's name; null for ordinary IPv6 addresses. */
function embeddedV4(ip: ipaddr.IPv6): { form: string; v4: ipaddr.IPv4; mayBePublic: boolean } | null {
  const p = ip.parts;
  const range = ip.range();
  // ::ffff:a.b.c.d and ::ffff:0:a.b.c.d (SIIT): the kernel dials the IPv4 address.
  if (range === 'ipv4Mapped' || range === 'rfc6145') return { form: range, v4: v4FromParts(p[6]!, p[7]!), mayBePublic: true };
  // 2002:aabb:ccdd::/48 routes to a.b.c.d through a 6to4 relay.
  if (range === '6to4') return { form: '6to4', v4: v4FromParts(p[1]!, p[2]!), mayBePublic: true };
  // 64:ff9b::a.b.c.d is translated to a.b.c.d by a NAT64 gateway; the local-use 64:ff9b:1::/48 is never public.
  if (range === 'rfc6052') return { form: 'nat64', v4: v4FromParts(p[6]!, p[7]!), mayBePublic: ip.match(NAT64_WELL_KNOWN) };
  // ::a.b.c.d (deprecated IPv4-compatible form; :: and ::1 are classified on their own).
  if (ip.match(V6_IPV4_COMPATIBLE) && range !== 'unspecified' && range !== 'loopback') {
    return { form: 'ipv4Compatible', v4: v4FromParts(p[6]!, p[7]!), mayBePublic: false };
  }
  return null;
}

/**
 * Classifies one IP address (v4 or v6, optionally with a zone id). Throws on anything that is not an address.
 * Public means: IPv4 outside every special-purpose range (loopback, RFC 1918, CGNAT 100.64/10, link-local incl.
 * 169.254.169.254, unspecified, multicast, broadcast, reserved, documentation, benchmarking); IPv6 global unicast
 * (2000::/3) outside ipaddr.js's special ranges (teredo, documentation, ...), or a mapped / 6to4 / NAT64 form of a
 * public IPv4 address.
 */
export function classifyAddress(input: string): AddressClass {
  const raw = plainText(input);
  if (!ipaddr.isValid(raw) || (ipaddr.IPv4.isValid(raw) && !ipaddr.IPv4.isValidFourPartDecimal(raw))) {
    throw new Error(`not an IP address: ${input}`);
  }
  const ip = ipaddr.parse(raw);
  if (ip.kind() === 'ipv4') {
    const v4 = ip as ipaddr.IPv4;
    return { address: v4.toString(), family: 4, ...classifyV4(v4) };
  }
  const v6 = ip as ipaddr.IPv6;
  const address = new ipaddr.IPv6(v6.parts).toRFC5952String();
  const embedded = embeddedV4(v6);
  if (embedded) {
    const inner = classifyV4(embedded.v4);
    return { address, family: 6, public: embedded.mayBePublic && inner.public, range: `${embedded.form}:${inner.range}` };
  }
  const range = v6.range();
  return { address, family: 6, public: range === 'unicast' && v6.match(V6_GLOBAL_UNICAST), range: range === 'unicast' && !v6.match(V6_GLOBAL_UNICAST) ? 'nonGlobal' : range };
}

/** The address with IPv4-mapped IPv6 turned into IPv4, for comparisons against allow-list entries. */
export function canonicalAddress(input: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const ip = ipaddr.process(plainText(input));
  return ip.kind() === 'ipv6' ? new ipaddr.IPv6((ip as ipaddr.IPv6).parts) : ip; // drop any zone id
}

export function isIpLiteral(host: string): boolean {
  const raw = host.replace(/^\[(.*)\]$/, '$1');
  return ipaddr.IPv6.isValid(raw) || ipaddr.IPv4.isValidFourPartDecimal(raw);
}
