import { XMLParser } from 'fast-xml-parser';
import { Ref } from './refs.js';
import { serialize, toPlain, toXml } from './render.js';

const base = { baseUrl: 'https://api.example.com', showNull: false };

describe('toPlain', () => {
  it('renders references as {id, href}, dates as epoch ms, and drops nulls unless asked', () => {
    const body = {
      backtrace: {
        pipeline: new Ref('pipeline', '552b87a814eab3a29d1b3d90'),
        error_msg: null,
        skipped: undefined,
        finished_at: new Date(1436247563709),
        extracted_data: [{ autograph_tag: 'test_tag', access_stats: [] }],
      },
    };
    expect(toPlain(body, base)).toEqual({
      backtrace: {
        pipeline: {
          id: '552b87a814eab3a29d1b3d90',
          href: 'https://api.example.com/v1/pipelines/552b87a814eab3a29d1b3d90',
        },
        finished_at: 1436247563709,
        extracted_data: [{ autograph_tag: 'test_tag', access_stats: [] }],
      },
    });
    const withNulls = toPlain(body, { ...base, showNull: true }) as { backtrace: object };
    expect(withNulls.backtrace).toHaveProperty('error_msg', null);
    expect(withNulls.backtrace).not.toHaveProperty('skipped');
  });
});

describe('toXml', () => {
  const parse = (xml: string): Record<string, unknown> =>
    new XMLParser({
      ignoreAttributes: false,
      isArray: (name) => ['backtrace', 'access_stat', 'item'].includes(name),
    }).parse(xml) as Record<string, unknown>;

  it('uses the single envelope key as the root element', () => {
    const xml = toXml({ backtrace: { id: 'a1', status: 'QUEUED', version: 1 } }, false);
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><backtrace><id>a1</id><status>QUEUED</status><version>1</version></backtrace>',
    );
  });

  it('renders a list as its plural root with the paging fields and one element per item', () => {
    const xml = toXml(
      { backtraces: [{ id: 'a' }, { id: 'b' }], total: 2, start: 0, limit: 1000 },
      false,
    );
    expect(parse(xml)).toEqual({
      '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
      backtraces: { total: 2, start: 0, limit: 1000, backtrace: [{ id: 'a' }, { id: 'b' }] },
    });
  });

  it('names array items after the singular of their field, escapes text and drops forbidden characters', () => {
    const xml = toXml(
      {
        backtrace: {
          extracted_data: [{ autograph_tag: 'a<b&c', access_stats: [{ user_agent: 'x\u0001y' }] }],
          error_msg: null,
        },
      },
      true,
    );
    expect(xml).toContain('<autograph_tag>a&lt;b&amp;c</autograph_tag>');
    expect(xml).toContain('<access_stats>\n');
    expect(xml).toContain('<error_msg nil="true"></error_msg>');
    expect(xml).toContain('<access_stat>\n          <user_agent>xy</user_agent>');
  });
});

describe('serialize', () => {
  it('pretty-prints JSON for humans only', () => {
    const options = { ...base, format: 'json' as const, human: false };
    expect(serialize({ a: { b: 1 } }, options)).toEqual({
      contentType: 'application/json; charset=utf-8',
      text: '{"a":{"b":1}}',
    });
    expect(serialize({ a: { b: 1 } }, { ...options, human: true }).text).toBe(
      '{\n  "a": {\n    "b": 1\n  }\n}',
    );
  });
});
