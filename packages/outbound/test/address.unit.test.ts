import { describe, expect, it } from 'vitest';
import { allowsAddress, allowsName, classifyAddress, OutboundGuard, OutboundTargetRefusedError, parseAllowedTargets } from '../src/index.ts';

const refused = (ip: string) => classifyAddress(ip).public;

describe('classifyAddress', () => {
  it('accepts public IPv4 unicast', () => {
    for (const ip of ['8.8.8.8', '1.1.1.1', '52.95.110.1', '100.63.255.255', '100.128.0.1', '172.15.255.255', '172.32.0.1', '169.253.255.255']) {
      expect(classifyAddress(ip), ip).toMatchObject({ public: true, range: 'unicast', family: 4 });
    }
  });

  it('refuses loopback, private, CGNAT, link-local (cloud metadata), unspecified, multicast, broadcast and reserved IPv4', () => {
    const cases: Array<[string, string]> = [
      ['127.0.0.1', 'loopback'], ['127.255.255.254', 'loopback'],
      ['10.0.0.1', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'], ['192.168.1.1', 'private'],
      ['100.64.0.1', 'carrierGradeNat'], ['100.127.255.255', 'carrierGradeNat'],
      ['169.254.169.254', 'linkLocal'], ['169.254.0.1', 'linkLocal'],
      ['0.0.0.0', 'unspecified'], ['0.1.2.3', 'unspecified'],
      ['224.0.0.1', 'multicast'], ['239.255.255.250', 'multicast'],
      ['255.255.255.255', 'broadcast'],
      ['240.0.0.1', 'reserved'], ['192.0.2.10', 'reserved'], ['198.18.0.1', 'reserved'],
    ];
    for (const [ip, range] of cases) expect(classifyAddress(ip), ip).toMatchObject({ public: false, range });
  });

  it('accepts public IPv6 global unicast and refuses loopback, link-local, unique-local, unspecified, multicast and other special IPv6', () => {
    expect(classifyAddress('2606:4700:4700::1111')).toMatchObject({ public: true, range: 'unicast', family: 6 });
    expect(classifyAddress('2a00:1450:4001:82a::200e')).toMatchObject({ public: true });
    const cases: Array<[string, string]> = [
      ['::1', 'loopback'], ['::', 'unspecified'],
      ['fe80::1', 'linkLocal'], ['fe80::1%eth0', 'linkLocal'], ['febf::1', 'linkLocal'],
      ['fc00::1', 'uniqueLocal'], ['fd12:3456:789a::1', 'uniqueLocal'],
      ['ff02::1', 'multicast'], ['ff05::2', 'multicast'],
      ['2001:db8::1', 'reserved'], ['2001::1', 'teredo'], ['fec0::1', 'deprecatedSiteLocal'], ['100::1', 'discard'],
      ['4000::1', 'nonGlobal'],
    ];
    for (const [ip, range] of cases) expect(classifyAddress(ip), ip).toMatchObject({ public: false, range });
  });

  it('looks inside IPv4-mapped, SIIT, 6to4, NAT64 and IPv4-compatible forms', () => {
    expect(classifyAddress('::ffff:127.0.0.1')).toMatchObject({ public: false, range: 'ipv4Mapped:loopback' });
    expect(classifyAddress('::ffff:7f00:1')).toMatchObject({ public: false, range: 'ipv4Mapped:loopback' });
    expect(classifyAddress('[::ffff:169.254.169.254]')).toMatchObject({ public: false, range: 'ipv4Mapped:linkLocal' });
    expect(classifyAddress('::ffff:10.1.2.3')).toMatchObject({ public: false, range: 'ipv4Mapped:private' });
    expect(classifyAddress('::ffff:0:192.168.0.1')).toMatchObject({ public: false, range: 'rfc6145:private' });
    expect(classifyAddress('::ffff:8.8.8.8')).toMatchObject({ public: true, range: 'ipv4Mapped:unicast' });
    expect(classifyAddress('2002:7f00:1::1')).toMatchObject({ public: false, range: '6to4:loopback' });
    expect(classifyAddress('2002:a9fe:a9fe::')).toMatchObject({ public: false, range: '6to4:linkLocal' });
    expect(classifyAddress('2002:c0a8:101::1')).toMatchObject({ public: false, range: '6to4:private' });
    expect(classifyAddress('2002:808:808::1')).toMatchObject({ public: true, range: '6to4:unicast' });
    expect(classifyAddress('64:ff9b::a9fe:a9fe')).toMatchObject({ public: false, range: 'nat64:linkLocal' });
    expect(classifyAddress('64:ff9b::808:808')).toMatchObject({ public: true, range: 'nat64:unicast' });
    expect(classifyAddress('64:ff9b:1::808:808')).toMatchObject({ public: false });
    expect(classifyAddress('::127.0.0.1')).toMatchObject({ public: false, range: 'ipv4Compatible:loopback' });
    expect(classifyAddress('::8.8.8.8')).toMatchObject({ public: false });
  });

  it('rejects what is not a plain address (shorthand IPv4, names)', () => {
    for (const bad of ['localhost', '127.1', '0x7f.0.0.1', '2130706433', '1.2.3.4.5', '']) expect(() => classifyAddress(bad), bad).toThrow(/not an IP/);
    expect(refused('127.0.0.1')).toBe(false);
  });
});

describe('DOMIQ_ALLOWED_TARGETS', () => {
  const list = parseAllowedTargets(' 127.0.0.1:8090, resman-sim.local, Internal.Example.com:8443, 10.20.0.0/16, [::1]:9000, fd00::/8, ::ffff:192.168.7.0/120 ,');

  it('parses host:port, host, IPv6 and CIDR entries', () => {
    expect(list.entries.map((e) => e.kind)).toEqual(['address', 'name', 'name', 'cidr', 'address', 'cidr', 'cidr']);
  });

  it('matches an address entry on address and port (mapped forms included)', () => {
    expect(allowsAddress(list, '127.0.0.1', 8090)).toBe(true);
    expect(allowsAddress(list, '::ffff:127.0.0.1', 8090)).toBe(true);
    expect(allowsAddress(list, '127.0.0.1', 8091)).toBe(false);
    expect(allowsAddress(list, '127.0.0.2', 8090)).toBe(false);
    expect(allowsAddress(list, '::1', 9000)).toBe(true);
    expect(allowsAddress(list, '0:0:0:0:0:0:0:1', 9000)).toBe(true);
    expect(allowsAddress(list, '::1', 9001)).toBe(false);
  });

  it('matches CIDR entries on any port', () => {
    expect(allowsAddress(list, '10.20.3.4', 1)).toBe(true);
    expect(allowsAddress(list, '10.21.0.1', 443)).toBe(false);
    expect(allowsAddress(list, 'fd00::5', 443)).toBe(true);
    expect(allowsAddress(list, '192.168.7.9', 80)).toBe(true);
    expect(allowsAddress(list, '192.168.8.9', 80)).toBe(false);
  });

  it('matches name entries case-insensitively, with or without port', () => {
    expect(allowsName(list, 'RESMAN-SIM.local.', 1234)).toBe(true);
    expect(allowsName(list, 'internal.example.com', 8443)).toBe(true);
    expect(allowsName(list, 'internal.example.com', 443)).toBe(false);
    expect(allowsName(list, 'evil.example.com', 443)).toBe(false);
  });

  it('refuses malformed entries naming them', () => {
    expect(() => parseAllowedTargets('127.0.0.1:99999')).toThrow(/127.0.0.1:99999: port/);
    expect(() => parseAllowedTargets('10.0.0.0/33')).toThrow(/CIDR/);
    expect(() => parseAllowedTargets('http://x')).toThrow();
    expect(() => parseAllowedTargets('bad host')).toThrow(/not a host name/);
    expect(parseAllowedTargets('').entries).toEqual([]);
    expect(parseAllowedTargets(undefined).entries).toEqual([]);
  });
});

describe('OutboundGuard.checkUrl', () => {
  const resolveTo = (map: Record<string, string[]>) => async (host: string) =>
    (map[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  const guard = (allowedTargets = '', map: Record<string, string[]> = {}) => new OutboundGuard({ allowedTargets, resolve: resolveTo(map) });
  const reason = async (p: Promise<unknown>) => {
    const err = await p.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(OutboundTargetRefusedError);
    return (err as OutboundTargetRefusedError).reason;
  };

  it('accepts https to a name whose every address is public', async () => {
    const g = guard('', { 'api.resman.example': ['52.1.2.3', '2600:1f18::1'] });
    await expect(g.checkUrl('https://api.resman.example/v1')).resolves.toMatchObject({ port: 443, addresses: [{ address: '52.1.2.3' }, { address: '2600:1f18::1' }] });
  });

  it('refuses a name when any one of its addresses is not public', async () => {
    const g = guard('', { 'mixed.example': ['52.1.2.3', '10.0.0.5'] });
    expect(await reason(g.checkUrl('https://mixed.example'))).toMatch(/10\.0\.0\.5 \(private\)/);
  });

  it('refuses IP literals in every spelling of a private address', async () => {
    const g = guard();
    for (const u of ['https://127.0.0.1', 'https://169.254.169.254/latest/meta-data', 'https://[::1]', 'https://[::ffff:127.0.0.1]', 'https://[fe80::1]', 'https://2130706433', 'https://0x7f.1', 'https://[2002:7f00:1::]', 'https://0.0.0.0']) {
      expect(await reason(g.checkUrl(u)), u).toMatch(/not a public address/);
    }
  });

  it('refuses http unless the target is allow-listed, and other schemes always', async () => {
    const g = guard('127.0.0.1:8090, sim.local', { 'api.example': ['52.1.2.3'], 'sim.local': ['127.0.0.1'] });
    expect(await reason(g.checkUrl('http://api.example'))).toMatch(/https is required/);
    await expect(g.checkUrl('http://127.0.0.1:8090')).resolves.toMatchObject({ protocol: 'http:', port: 8090 });
    await expect(g.checkUrl('http://sim.local:1234')).resolves.toMatchObject({ addresses: [{ address: '127.0.0.1' }] });
    expect(await reason(g.checkUrl('http://127.0.0.1:8091'))).toMatch(/https is required/);
    expect(await reason(g.checkUrl('https://127.0.0.1:8091'))).toMatch(/loopback/);
    expect(await reason(g.checkUrl('ftp://api.example'))).toMatch(/not http or https/);
  });

  it('refuses a name that resolves to nothing', async () => {
    expect(await reason(guard().checkUrl('https://nowhere.example'))).toMatch(/no address/);
  });
});
