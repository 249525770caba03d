import { escapeHtml } from './html-escape.js';

describe('escapeHtml', () => {
  it('neutralises markup and both quote kinds, leaving other text alone', () => {
    expect(escapeHtml(`<img src=x onerror="alert('1')">&amp;`)).toBe(
      '&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;amp;',
    );
    expect(escapeHtml('viewer-7 · Zoë')).toBe('viewer-7 · Zoë');
    expect(escapeHtml(0.25)).toBe('0.25');
  });
});
