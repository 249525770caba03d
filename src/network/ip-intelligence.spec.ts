import { Test } from '@nestjs/testing';
import { isHostingNetwork } from './hosting-networks.js';
import { IpIntelligence } from './ip-intelligence.js';
import { NetworkModule } from './network.module.js';

// Expected values were checked against the shipped data (@ip-location-db/* 2.3.2026061719).
describe('IpIntelligence', () => {
  let ipi: IpIntelligence;

  beforeAll(async () => {
    ipi = await IpIntelligence.open();
  });

  it('reports the contract example: Hetzner (AS24940) in Germany as DCH', () => {
    expect(ipi.lookup('5.9.119.0')).toEqual({ ip_country: 'Germany', ip_type: 'DCH' });
  });

  it('reports Google public DNS (AS15169) as United States / DCH', () => {
    expect(ipi.lookup('8.8.8.8')).toEqual({ ip_country: 'United States', ip_type: 'DCH' });
  });

  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.5.4',
    '192.168.0.1',
    '100.64.0.1',
    '169.254.1.1',
    '0.0.0.0',
    '192.0.2.1',
    '198.51.100.7',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    'fe80::1',
    'fe80::1%eth0',
    'fd12:3456::1',
    '2001:db8::1', // documentation prefix: the country mmdb wrongly has it as JP
    '::ffff:10.0.0.1',
    '::ffff:127.0.0.1',
    '2002:c0a8:0101::1', // 6to4 of 192.168.1.1
  ])('reports %s as N/A / RSV', (ip) => {
    expect(ipi.lookup(ip)).toEqual({ ip_country: 'N/A', ip_type: 'RSV' });
  });

  it('treats IPv6 addresses embedding an IPv4 address like that IPv4 address', () => {
    const expected = { ip_country: 'Germany', ip_type: 'DCH' };
    expect(ipi.lookup('::ffff:5.9.119.0')).toEqual(expected);
    expect(ipi.lookup('::FFFF:0509:7700')).toEqual(expected);
    expect(ipi.lookup('64:ff9b::5.9.119.0')).toEqual(expected);
    expect(ipi.lookup('2002:0509:7700::1')).toEqual(expected); // 6to4
    expect(ipi.lookup('2001:0:4136:e378:8000:63bf:faf6:88ff')).toEqual(expected); // Teredo
  });

  it('reports public IPv6 addresses of cloud providers as DCH', () => {
    // AWS eu-central-1 (AS16509)
    expect(ipi.lookup('2a05:d014::1')).toEqual({ ip_country: 'Germany', ip_type: 'DCH' });
    // Hetzner (AS24940)
    expect(ipi.lookup('2a01:4f8:c17::1')).toEqual({ ip_country: 'Germany', ip_type: 'DCH' });
    // Google public DNS (AS15169)
    expect(ipi.lookup('2001:4860:4860::8888')).toEqual({
      ip_country: 'United States',
      ip_type: 'DCH',
    });
  });

  it('does not report consumer ISP addresses as DCH', () => {
    // Deutsche Telekom (AS3320)
    expect(ipi.lookup('84.128.0.1')).toEqual({ ip_country: 'Germany', ip_type: 'N/A' });
    expect(ipi.lookup('2003:e0::1')).toEqual({ ip_country: 'Germany', ip_type: 'N/A' });
    // Comcast (AS7922)
    expect(ipi.lookup('73.0.0.1')).toEqual({ ip_country: 'United States', ip_type: 'N/A' });
    expect(ipi.lookup('2601::1')).toEqual({ ip_country: 'United States', ip_type: 'N/A' });
  });

  it.each([
    '',
    '   ',
    'garbage',
    'localhost',
    '1.2.3',
    '127.1', // legal for inet_aton, not a dotted quad
    '0x7f.0.0.1',
    '256.1.1.1',
    '1.2.3.4.5',
    '5.9.119.0/24',
    '5.9.119.0:443',
    '[::1]',
    '2001:db8::g',
    '1::2::3',
  ])('reports invalid input %j as N/A / N/A', (ip) => {
    expect(ipi.lookup(ip)).toEqual({ ip_country: 'N/A', ip_type: 'N/A' });
  });

  it('rejects oversized input', () => {
    expect(ipi.lookup(`${'0'.repeat(1000)}::1`)).toEqual({ ip_country: 'N/A', ip_type: 'N/A' });
  });

  it('tolerates non-string input from untyped callers', () => {
    expect(ipi.lookup(undefined as unknown as string)).toEqual({
      ip_country: 'N/A',
      ip_type: 'N/A',
    });
  });

  it('returns results that callers may mutate without affecting later lookups', () => {
    const first = ipi.lookup('10.0.0.1');
    first.ip_type = 'changed';
    expect(ipi.lookup('10.0.0.1').ip_type).toBe('RSV');
  });

  it('shares one loaded instance between open() calls', async () => {
    await expect(IpIntelligence.open()).resolves.toBe(ipi);
  });

  it('is provided by NetworkModule', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [NetworkModule] }).compile();
    expect(moduleRef.get(IpIntelligence).lookup('5.9.119.0').ip_type).toBe('DCH');
    await moduleRef.close();
  });
});

describe('isHostingNetwork', () => {
  it.each([
    [24940, 'Hetzner Online GmbH'],
    [14061, 'DigitalOcean, LLC'],
    [99999999, 'Example Hosting B.V.'],
    [99999999, 'Example Data Center Ltd'],
    [99999999, 'Broadband Hosting B.V.'],
    [99999999, 'Servers.com, Inc.'],
    [99999999, 'Example Cloud Computing Co., Ltd'],
  ])('AS%d %s is a hosting network', (asn, org) => {
    expect(isHostingNetwork(asn, org)).toBe(true);
  });

  it.each([
    [3320, 'Deutsche Telekom AG'],
    [7922, 'Comcast Cable Communications, LLC'],
    [16591, 'Google Fiber Inc.'],
    [99999999, 'Cloud 9 Wireless LLC'],
    [99999999, 'VPS Broadband And Telecommunications Pvt Ltd'],
    [99999999, 'Observer Networks'],
  ])('AS%d %s is not a hosting network', (asn, org) => {
    expect(isHostingNetwork(asn, org)).toBe(false);
  });
});
