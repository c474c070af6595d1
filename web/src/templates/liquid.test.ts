import { describe, expect, it } from 'vitest';
import { tokenize, type Token } from './liquid';

const join = (ts: Token[]) => ts.map((t) => t.text).join('');
const types = (ts: Token[]) => ts.filter((t) => t.type !== 'space').map((t) => `${t.type}:${t.text}`);

describe('tokenize', () => {
  it('keeps plain text as one token', () => {
    expect(tokenize('Hello <b>world</b>')).toEqual([{ type: 'text', text: 'Hello <b>world</b>' }]);
    expect(tokenize('')).toEqual([]);
  });

  it('splits an output with filters, strings and arguments', () => {
    const src = '안녕 {{ user.first_name | default: "고객" | truncate: 10 }}님';
    const ts = tokenize(src);
    expect(join(ts)).toBe(src);
    expect(types(ts)).toEqual([
      'text:안녕 ',
      'delim:{{',
      'variable:user.first_name',
      'operator:|',
      'filter:default',
      'operator::',
      'string:"고객"',
      'operator:|',
      'filter:truncate',
      'operator::',
      'number:10',
      'delim:}}',
      'text:님',
    ]);
  });

  it('names the tag and keywords in a tag', () => {
    const ts = tokenize('{% if user.plan == "pro" and user.tags contains \'vip\' %}VIP{% endif %}');
    expect(types(ts)).toEqual([
      'delim:{%',
      'tag:if',
      'variable:user.plan',
      'operator:==',
      'string:"pro"',
      'keyword:and',
      'variable:user.tags',
      'keyword:contains',
      "string:'vip'",
      'delim:%}',
      'text:VIP',
      'delim:{%',
      'tag:endif',
      'delim:%}',
    ]);
  });

  it('handles whitespace control', () => {
    const src = '{%- for x in (1..3) limit: 2 -%}{{- x -}}{%- endfor -%}';
    const ts = tokenize(src);
    expect(join(ts)).toBe(src);
    expect(types(ts)).toEqual([
      'delim:{%-',
      'tag:for',
      'variable:x',
      'keyword:in',
      'operator:(',
      'number:1',
      'operator:..',
      'number:3',
      'operator:)',
      'param:limit',
      'operator::',
      'number:2',
      'delim:-%}',
      'delim:{{-',
      'variable:x',
      'delim:-}}',
      'delim:{%-',
      'tag:endfor',
      'delim:-%}',
    ]);
  });

  it('treats comment blocks and inline comments as comments', () => {
    const src = 'a{% comment %} {{ not.output }} {% if %}{% endcomment %}b{% # note %}c';
    const ts = tokenize(src);
    expect(join(ts)).toBe(src);
    expect(types(ts)).toEqual([
      'text:a',
      'comment:{% comment %} {{ not.output }} {% if %}{% endcomment %}',
      'text:b',
      'delim:{%',
      'comment:# note ',
      'delim:%}',
      'text:c',
    ]);
  });

  it('keeps raw bodies verbatim', () => {
    const src = '{% raw %}{{ x }}{% endraw %}';
    const ts = tokenize(src);
    expect(join(ts)).toBe(src);
    expect(types(ts)).toEqual(['delim:{%', 'tag:raw', 'delim:%}', 'raw:{{ x }}', 'delim:{%', 'tag:endraw', 'delim:%}']);
  });

  it('marks an unclosed output as an error to the end', () => {
    const ts = tokenize('Hi {{ user.name');
    expect(types(ts)).toEqual(['text:Hi ', 'error:{{ user.name']);
    expect(tokenize('{% if x')).toEqual([{ type: 'error', text: '{% if x' }]);
  });

  it('an unclosed comment runs to the end', () => {
    const src = '{% comment %} never closed {{ x }}';
    expect(tokenize(src)).toEqual([{ type: 'comment', text: src }]);
  });

  it('tokenizes the liquid tag line by line', () => {
    const src = '{% liquid\n  assign n = 3\n  # a note\n  echo n | plus: 1\n%}';
    const ts = tokenize(src);
    expect(join(ts)).toBe(src);
    expect(types(ts)).toContain('tag:assign');
    expect(types(ts)).toContain('tag:echo');
    expect(types(ts)).toContain('comment:# a note');
    expect(types(ts)).toContain('filter:plus');
  });

  it('named arguments and non-ASCII variable names', () => {
    const ts = tokenize('{{ "welcome" | t: name: 고객.이름 }}{% render \'footer\' with user as u %}');
    expect(types(ts)).toEqual([
      'delim:{{',
      'string:"welcome"',
      'operator:|',
      'filter:t',
      'operator::',
      'param:name',
      'operator::',
      'variable:고객.이름',
      'delim:}}',
      'delim:{%',
      'tag:render',
      "string:'footer'",
      'keyword:with',
      'variable:user',
      'keyword:as',
      'variable:u',
      'delim:%}',
    ]);
  });

  it('always gives the source back', () => {
    const samples = [
      '{{',
      '{%',
      '}} %} {{}} {%%}',
      '{{ "unterminated }}',
      "{% assign x = 'a' | append: \"b\" %}{{ x[0] | size }}{{ h['k'] }}",
      '<a href="{{ links.unsubscribe_url }}">x</a>\n{% case x %}{% when 1, 2 %}a{% else %}b{% endcase %}',
      '{% comment %}{% endcomment %}{% raw %}',
      '{{ -1 | abs }} {{ 1.5 | plus: -2.25 }} {{ a.b.c? }} {% if a <> b or c >= d %}{% endif %}',
    ];
    for (const s of samples) expect(join(tokenize(s))).toBe(s);
  });
});
