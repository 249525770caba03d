import { XMLBuilder } from 'fast-xml-parser';
import { Link, Ref } from './refs.js';

export type OutputFormat = 'json' | 'xml';

export interface RenderOptions {
  format: OutputFormat;
  /** Pretty-print (the `human` query parameter). */
  human: boolean;
  /** Keep null fields (the `show_null` query parameter); they are omitted otherwise. */
  showNull: boolean;
  /** Absolute origin for hrefs, e.g. `https://api.example.com`. */
  baseUrl: string;
}

type Plain = null | boolean | number | string | Plain[] | { [key: string]: Plain };

/**
 * Turns a response body into the wire shape: references become `{id, href}`, dates become
 * epoch milliseconds, and null fields are dropped unless `showNull`. `undefined` always is.
 */
export function toPlain(
  value: unknown,
  options: Pick<RenderOptions, 'showNull' | 'baseUrl'>,
): Plain {
  if (value === null || value === undefined) return null;
  if (value instanceof Ref) return { id: value.id, href: value.href(options.baseUrl) };
  if (value instanceof Link) return value.url(options.baseUrl);
  if (value instanceof Date) return value.getTime();
  if (Array.isArray(value)) return value.map((item) => toPlain(item, options));
  if (typeof value === 'object') {
    const out: { [key: string]: Plain } = {};
    for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
      if (field === undefined || (field === null && !options.showNull)) continue;
      out[key] = toPlain(field, options);
    }
    return out;
  }
  if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') {
    return value;
  }
  return null; // functions, symbols and bigints have no wire form
}

/** Control characters that XML 1.0 forbids even when escaped. */
// eslint-disable-next-line no-control-regex
const XML_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

/** `access_stats` → `access_stat`, `backtraces` → `backtrace`; otherwise `item`. */
function elementNameForItemsOf(key: string): string {
  return key.endsWith('s') && key.length > 1 ? key.slice(0, -1) : 'item';
}

/** Maps JSON structure onto fast-xml-parser's input: arrays become a wrapper of item elements. */
function toXmlTree(value: Plain, key: string): unknown {
  if (value === null) return { '@_nil': 'true' };
  if (Array.isArray(value)) {
    return { [elementNameForItemsOf(key)]: value.map((item) => toXmlTree(item, key)) };
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [childKey, child] of Object.entries(value))
      out[childKey] = toXmlTree(child, childKey);
    return out;
  }
  return typeof value === 'string' ? value.replace(XML_FORBIDDEN, '') : value;
}

/**
 * XML mirroring the JSON: `{backtrace: {...}}` → `<backtrace>…</backtrace>`; a list
 * `{backtraces: [...], total, start, limit}` → `<backtraces><total/>…<backtrace>…</backtrace></backtraces>`.
 */
export function toXml(body: Plain, human: boolean): string {
  const builder = new XMLBuilder({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    format: human,
    indentBy: '  ',
    suppressEmptyNode: false,
    suppressBooleanAttributes: false,
  });
  let root = 'response';
  let content: Plain = body;
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const entries = Object.entries(body);
    const listEntry = entries.find(([, value]) => Array.isArray(value));
    if (entries.length === 1 && !Array.isArray(entries[0][1])) {
      [root, content] = entries[0];
    } else if (listEntry) {
      root = listEntry[0];
      const scalars = Object.fromEntries(entries.filter(([key]) => key !== root));
      const items = toXmlTree(listEntry[1], root) as Record<string, unknown>;
      const tree = { ...(toXmlTree(scalars, root) as object), ...items };
      return finish(builder.build({ [root]: tree }), human);
    }
  }
  return finish(builder.build({ [root]: toXmlTree(content, root) }), human);
}

function finish(xml: string, human: boolean): string {
  return `<?xml version="1.0" encoding="UTF-8"?>${human ? '\n' : ''}${xml}`;
}

export function serialize(
  body: unknown,
  options: RenderOptions,
): { contentType: string; text: string } {
  const plain = toPlain(body, options);
  if (options.format === 'xml') {
    return { contentType: 'application/xml; charset=utf-8', text: toXml(plain, options.human) };
  }
  return {
    contentType: 'application/json; charset=utf-8',
    text: JSON.stringify(plain, null, options.human ? 2 : undefined),
  };
}
