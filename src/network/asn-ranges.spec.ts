import { AsnRanges } from './asn-ranges.js';

describe('AsnRanges', () => {
  const v4 = [
    '16777216,16777471,13335,"Cloudflare, Inc."', // 1.0.0.0 - 1.0.0.255
    '16777472,16777599,64500,"Quoted ""Org"""', // 1.0.1.0 - 1.0.1.127
    '16777560,16777727,64501,Overlapping Org', // 1.0.1.88 - 1.0.1.255 (overlaps the previous)
    '3221225984,3221226239,64502,Unsorted Row\r', // 192.0.2.0 - 192.0.2.255, CRLF
    '16777984,16778239,64503,Later Row', // 1.0.3.0 - 1.0.3.255
    'not,a,row',
    '',
  ].join('\n');
  const v6 = [
    // 2001:db8:: - 2001:db8:0:ffff:ffff:ffff:ffff:ffff
    '42540766411282592856903984951653826560,42540766411283801782723599580828532735,64510,V6 Org',
  ].join('\n');

  const organisations = new Map<number, string>();
  const table = AsnRanges.parse(v4, v6, (asn, org) => {
    organisations.set(asn, org);
    return asn === 64500;
  });

  it('finds the AS of an IPv4 address and nothing between ranges', () => {
    expect(table.asnV4(16777216)).toBe(13335);
    expect(table.asnV4(16777471)).toBe(13335);
    expect(table.asnV4(16777215)).toBe(0);
    expect(table.asnV4(16777984 - 1)).toBe(0);
    expect(table.asnV4(3221225985)).toBe(64502);
    expect(table.asnV4(0xffffffff)).toBe(0);
  });

  it('clips an overlapping range at the start of the next one', () => {
    expect(table.asnV4(16777559)).toBe(64500);
    expect(table.asnV4(16777560)).toBe(64501);
  });

  it('unquotes organisation names and classifies each AS once', () => {
    expect(organisations.get(13335)).toBe('Cloudflare, Inc.');
    expect(organisations.get(64500)).toBe('Quoted "Org"');
    expect(organisations.get(64502)).toBe('Unsorted Row');
    expect(table.isFlagged(64500)).toBe(true);
    expect(table.isFlagged(13335)).toBe(false);
    expect(table.isFlagged(0)).toBe(false);
  });

  it('finds the AS of an IPv6 address', () => {
    expect(table.asnV6(0x20010db8, 0, 0, 1)).toBe(64510);
    expect(table.asnV6(0x20010db8, 0xffff, 0xffffffff, 0xffffffff)).toBe(64510);
    expect(table.asnV6(0x20010db8, 0x10000, 0, 0)).toBe(0);
    expect(table.asnV6(0x20010db7, 0xffffffff, 0xffffffff, 0xffffffff)).toBe(0);
  });
});
