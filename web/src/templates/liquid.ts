// liquid.ts — a small Liquid tokenizer for syntax highlighting (not a
// parser: the server parses on save and preview). Every character of the
// source lands in exactly one token, in order, so joining the tokens' text
// gives the source back — the highlighted <pre> overlay depends on that.

export type TokenType =
  | 'text' // outside Liquid markup
  | 'delim' // {{ }} {% %} and their whitespace-control forms {{- -%}
  | 'tag' // the tag name: if, for, assign, endif, …
  | 'keyword' // and or contains in with as true false nil empty blank …
  | 'variable' // user.first_name, items[0] (the name parts)
  | 'filter' // the filter name after |
  | 'param' // a named argument: limit:, allow_false:
  | 'string' // '…' or "…"
  | 'number'
  | 'operator' // | : , == != < > .. [ ] ( ) =
  | 'comment' // {% comment %}…{% endcomment %}, {% # note %}
  | 'raw' // the body of {% raw %}…{% endraw %}
  | 'space'
  | 'error'; // an unterminated {{ or {%

export type Token = { type: TokenType; text: string };

const KEYWORDS = new Set([
  'and', 'or', 'contains', 'in', 'with', 'as', 'for', 'true', 'false', 'nil', 'null', 'empty', 'blank', 'reversed', 'else',
]);

const IDENT = /[A-Za-z_\u00C0-\uFFFF][\w\-\u00C0-\uFFFF]*(?:\.[A-Za-z_\u00C0-\uFFFF][\w\-\u00C0-\uFFFF]*)*\??/y;
const NUMBER = /-?\d+(?:\.\d+)?/y;
const SPACE = /\s+/y;
const OPERATOR = /==|!=|<>|<=|>=|\.\.|[<>=|:,.[\]()]/y;

function at(re: RegExp, s: string, i: number): string | null {
  re.lastIndex = i;
  const m = re.exec(s);
  return m ? m[0] : null;
}

/** Tokens of the inside of one {{ … }} or {% … %} (without the delimiters). */
export function tokenizeExpression(src: string, out: Token[] = [], firstIsTag = false): Token[] {
  let i = 0;
  let expectFilter = false;
  let expectTag = firstIsTag;
  while (i < src.length) {
    const c = src[i];
    let m: string | null;
    if ((m = at(SPACE, src, i))) {
      out.push({ type: 'space', text: m });
    } else if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1);
      m = end < 0 ? src.slice(i) : src.slice(i, end + 1);
      out.push({ type: 'string', text: m });
      expectTag = false;
    } else if ((m = at(NUMBER, src, i)) && !(c === '-' && expectTag)) {
      out.push({ type: 'number', text: m });
      expectTag = false;
    } else if ((m = at(IDENT, src, i))) {
      let type: TokenType;
      if (expectTag) type = 'tag';
      else if (expectFilter) type = 'filter';
      else if (src[i + m.length] === ':' && src[i + m.length + 1] !== ':') type = 'param';
      else if (KEYWORDS.has(m)) type = 'keyword';
      else type = 'variable';
      out.push({ type, text: m });
      expectFilter = false;
      expectTag = false;
    } else if ((m = at(OPERATOR, src, i))) {
      out.push({ type: 'operator', text: m });
      if (m === '|') expectFilter = true;
      expectTag = false;
    } else {
      m = c;
      out.push({ type: 'operator', text: m });
      expectTag = false;
    }
    i += m.length;
  }
  return out;
}

/** The end of the markup that starts at `from` (index just after the
 * closing delimiter), or -1 when it is not closed. Like Shopify's lexer, the
 * first closing delimiter ends it, quotes or not. */
function closeOf(src: string, from: number, close: string): number {
  const k = src.indexOf(close, from);
  return k < 0 ? -1 : k + close.length;
}

const END_COMMENT = /\{%-?\s*endcomment\s*-?%\}/g;
const END_RAW = /\{%-?\s*endraw\s*-?%\}/g;

/** Splits a delimited markup "{%- inner -%}" into its parts. */
function splitMarkup(text: string): { open: string; inner: string; close: string } {
  const open = text[2] === '-' ? text.slice(0, 3) : text.slice(0, 2);
  const close = text.length >= open.length + 3 && text[text.length - 3] === '-' ? text.slice(-3) : text.slice(-2);
  return { open, inner: text.slice(open.length, text.length - close.length), close };
}

function pushTag(out: Token[], text: string) {
  const { open, inner, close } = splitMarkup(text);
  out.push({ type: 'delim', text: open });
  const lead = inner.match(/^\s*/)![0];
  const rest = inner.slice(lead.length);
  if (lead) out.push({ type: 'space', text: lead });
  if (rest.startsWith('#')) {
    out.push({ type: 'comment', text: rest });
  } else if (/^liquid\b/.test(rest)) {
    // {% liquid %}: one tag per line, without delimiters
    out.push({ type: 'tag', text: 'liquid' });
    const lines = rest.slice(6).split(/(\n)/);
    for (const line of lines) {
      if (line === '') continue;
      if (line === '\n') out.push({ type: 'space', text: line });
      else if (/^\s*#/.test(line)) {
        const l = line.match(/^\s*/)![0];
        if (l) out.push({ type: 'space', text: l });
        out.push({ type: 'comment', text: line.slice(l.length) });
      } else tokenizeExpression(line, out, true);
    }
  } else {
    tokenizeExpression(rest, out, true);
  }
  out.push({ type: 'delim', text: close });
}

/** Tokens of a whole Liquid source. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const text = (s: string, type: TokenType = 'text') => {
    if (!s) return;
    const last = out[out.length - 1];
    if (last && last.type === type && (type === 'text' || type === 'comment' || type === 'raw')) last.text += s;
    else out.push({ type, text: s });
  };
  while (i < src.length) {
    const a = src.indexOf('{{', i);
    const b = src.indexOf('{%', i);
    const start = a < 0 ? b : b < 0 ? a : Math.min(a, b);
    if (start < 0) {
      text(src.slice(i));
      break;
    }
    text(src.slice(i, start));
    const isOutput = start === a;
    const end = closeOf(src, start + 2, isOutput ? '}}' : '%}');
    if (end < 0) {
      out.push({ type: 'error', text: src.slice(start) });
      break;
    }
    const markup = src.slice(start, end);
    if (isOutput) {
      const { open, inner, close } = splitMarkup(markup);
      out.push({ type: 'delim', text: open });
      tokenizeExpression(inner, out);
      out.push({ type: 'delim', text: close });
      i = end;
      continue;
    }
    const name = (splitMarkup(markup).inner.trim().match(/^[A-Za-z_]+/) || [''])[0];
    if (name === 'comment' || name === 'raw') {
      const re = name === 'comment' ? END_COMMENT : END_RAW;
      re.lastIndex = end;
      const m = re.exec(src);
      const bodyEnd = m ? m.index : src.length;
      if (name === 'comment') {
        text(markup + src.slice(end, bodyEnd) + (m ? m[0] : ''), 'comment');
      } else {
        pushTag(out, markup);
        text(src.slice(end, bodyEnd), 'raw');
        if (m) pushTag(out, m[0]);
      }
      i = m ? bodyEnd + m[0].length : src.length;
      continue;
    }
    pushTag(out, markup);
    i = end;
  }
  return out;
}
