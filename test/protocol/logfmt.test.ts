import { describe, expect, it } from 'vitest';
import { formatLogfmt, isValidKey, parseLogfmt, quoteValue } from '../../src/protocol/logfmt.js';

function fields(text: string): Record<string, string> {
  const parsed = parseLogfmt(text);
  if (!parsed.ok) throw new Error(`expected ${JSON.stringify(text)} to parse, got: ${parsed.detail}`);
  const { keys, values } = parsed.value;
  return Object.fromEntries(keys.map((key, i) => [key, values[i]!]));
}

function syntaxError(text: string): string {
  const parsed = parseLogfmt(text);
  if (parsed.ok) throw new Error(`expected ${JSON.stringify(text)} to be refused`);
  expect(parsed.reason).toBe('syntax');
  return parsed.detail;
}

describe('logfmt: fields', () => {
  it('splits key=value fields on any run of ASCII whitespace (space, tab, newline, CR, form feed)', () => {
    expect(fields('a=1 b=2\tc=3\nd=4\r\ne=5\ff=6   g=7')).toEqual({
      a: '1',
      b: '2',
      c: '3',
      d: '4',
      e: '5',
      f: '6',
      g: '7',
    });
  });

  it('ignores leading and trailing whitespace, and an empty text has no fields', () => {
    expect(fields('  \n a=1 \n')).toEqual({ a: '1' });
    expect(fields('')).toEqual({});
    expect(fields(' \n\t')).toEqual({});
  });

  it('keeps the order of the fields', () => {
    const parsed = parseLogfmt('z=1 a=2 m=3');
    expect(parsed.ok && parsed.value.keys).toEqual(['z', 'a', 'm']);
  });

  it('allows an empty bare value', () => {
    expect(fields('a= b=2 c=')).toEqual({ a: '', b: '2', c: '' });
  });

  it('keeps a bare value verbatim, backslashes, equals signs, control and non-ASCII chars included', () => {
    expect(fields('a=x=y b=C:\\dir c=\u0000\u0007 d=héllo→✓ e=\u000b')).toEqual({
      a: 'x=y',
      b: 'C:\\dir',
      c: '\u0000\u0007',
      d: 'héllo→✓',
      e: '\u000b',
    });
  });
});

describe('logfmt: quoted values', () => {
  it('reads a quoted value with whitespace inside', () => {
    expect(fields('msg="disk 71% full" b=1')).toEqual({ msg: 'disk 71% full', b: '1' });
  });

  it('reads the escapes \\" \\\\ \\n \\t', () => {
    expect(fields('msg="say \\"hi\\"\\\\ \\n\\t."')).toEqual({ msg: 'say "hi"\\ \n\t.' });
  });

  it('keeps raw newlines and other characters inside quotes', () => {
    expect(fields('msg="line 1\nline 2\r\u0000="')).toEqual({ msg: 'line 1\nline 2\r\u0000=' });
  });

  it('reads "" as an empty value', () => {
    expect(fields('a="" b=1')).toEqual({ a: '', b: '1' });
  });

  it.each([
    ['an unknown escape', 'msg="a\\x"'],
    ['an escaped single quote', 'msg="it\\\'s"'],
    ['an unterminated quote', 'msg="disk full'],
    ['a backslash at the very end', 'msg="disk\\'],
    ['an escaped closing quote only', 'msg="disk\\"'],
    ['a quote directly followed by a character', 'msg="disk"full'],
    ['two quoted values glued together', 'msg="a""b"'],
    ['a quote inside a bare value', 'msg=disk"full"'],
  ])('refuses %s', (_, text) => {
    syntaxError(text);
  });
});

describe('logfmt: keys', () => {
  it('accepts keys matching [a-z][a-z0-9_.-]{0,63}', () => {
    expect(fields(`a=1 disk.root_used-pct=2 ${'k'.repeat(64)}=3`)).toHaveProperty('k'.repeat(64), '3');
  });

  it.each([
    ['an upper-case key', 'Host=web1'],
    ['a key starting with a digit', '1a=1'],
    ['a key starting with an underscore', '_a=1'],
    ['a 65-character key', `${'k'.repeat(65)}=1`],
    ['an empty key', '=1'],
    ['a quoted key', '"a"=1'],
    ['a non-ASCII key', 'clé=1'],
  ])('refuses %s', (_, text) => {
    expect(syntaxError(text)).toMatch(/invalid key/);
  });

  it('refuses a key given twice, even far apart', () => {
    expect(syntaxError('a=1 b=2 a=3')).toMatch(/"a" appears twice/);
    const many = Array.from({ length: 40 }, (_, i) => `k${i}=1`).join(' ');
    expect(syntaxError(`${many} k39=2`)).toMatch(/"k39" appears twice/);
    expect(fields(many)).toHaveProperty('k39', '1');
  });

  it('isValidKey says the same as the parser', () => {
    expect(isValidKey('load')).toBe(true);
    expect(isValidKey('a.b-c_d9')).toBe(true);
    expect(isValidKey('')).toBe(false);
    expect(isValidKey('Load')).toBe(false);
    expect(isValidKey('k'.repeat(65))).toBe(false);
  });
});

describe('logfmt: the lone-word shorthand', () => {
  it('reads a lone bare word without "=" as host=<word>', () => {
    expect(fields('web1\n')).toEqual({ host: 'web1' });
    expect(fields('  web1  ')).toEqual({ host: 'web1' });
  });

  it('refuses a word without "=" next to other fields', () => {
    expect(syntaxError('web1 status=ok')).toMatch(/"web1" has no "="/);
    expect(syntaxError('status=ok web1')).toMatch(/"web1" has no "="/);
    expect(syntaxError('web1 web2')).toMatch(/has no "="/);
  });

  it('refuses a lone word with a quote in it', () => {
    syntaxError('"web1"');
    syntaxError('we"b1');
  });
});

describe('logfmt: sig', () => {
  it('records where the signed text ends: before the whitespace run that precedes sig=', () => {
    const text = 'host=web1 ts=1 \n\t sig=abc\n';
    const parsed = parseLogfmt(text);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(text.slice(0, parsed.value.signedTextEnd)).toBe('host=web1 ts=1');
  });

  it('keeps leading whitespace in the signed text (it is text before sig=)', () => {
    const parsed = parseLogfmt(' host=web1 sig=abc');
    expect(parsed.ok && parsed.value.signedTextEnd).toBe(10);
  });

  it('has no signed text without sig', () => {
    const parsed = parseLogfmt('host=web1 signature=abc');
    expect(parsed.ok && parsed.value.signedTextEnd).toBe(-1);
  });

  it('refuses a field after sig', () => {
    expect(syntaxError('host=web1 sig=abc ts=1')).toMatch(/"sig" must be the last field/);
    expect(syntaxError('sig=abc host=web1')).toMatch(/"sig" must be the last field/);
  });
});

describe('logfmt: writing', () => {
  it('writes a value bare when it can', () => {
    expect(quoteValue('web1')).toBe('web1');
    expect(quoteValue('C:\\dir=x')).toBe('C:\\dir=x');
    expect(quoteValue('héllo')).toBe('héllo');
  });

  it('quotes empty values and values with whitespace or quotes, escaping per the dialect', () => {
    expect(quoteValue('')).toBe('""');
    expect(quoteValue('disk 71% full')).toBe('"disk 71% full"');
    expect(quoteValue('say "hi"')).toBe('"say \\"hi\\""');
    expect(quoteValue('a\\b c')).toBe('"a\\\\b c"');
    expect(quoteValue('1\n2\t3\r4\f5')).toBe('"1\\n2\\t3\r4\f5"');
  });

  it('formats fields in the order given, and reads them back', () => {
    const line = formatLogfmt([
      ['host', 'web1'],
      ['msg', 'a "b"\nc'],
      ['empty', ''],
    ]);
    expect(line).toBe('host=web1 msg="a \\"b\\"\\nc" empty=""');
    expect(fields(line)).toEqual({ host: 'web1', msg: 'a "b"\nc', empty: '' });
  });
});
