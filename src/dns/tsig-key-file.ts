/**
 * Reads the key file `tsig-keygen` writes (BIND's named.conf syntax):
 *
 *     key "name" {
 *       algorithm hmac-sha256;
 *       secret "base64==";
 *     };
 *
 * with `#`, `//` and `/* *\/` comments and any number of key blocks. Anything else in the file is
 * an error: nsupdate reads the same file, and a file it cannot read makes it send unsigned updates.
 * Error messages name the file and line, never the secret.
 */

import { TSIG_ALGORITHMS, type TsigAlgorithm, type TsigKey } from './update-types.js';
import { normalizeName } from './validate.js';

const ALGORITHMS: ReadonlySet<string> = new Set<TsigAlgorithm>(TSIG_ALGORITHMS);
// BIND also accepts the RFC 2845 name of HMAC-MD5.
const ALGORITHM_ALIASES: Readonly<Record<string, TsigAlgorithm>> = { 'hmac-md5.sig-alg.reg.int': 'hmac-md5' };
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

interface Token {
  /** `{`, `}`, `;`, a word, or the contents of a quoted string */
  text: string;
  quoted: boolean;
  line: number;
}

function tokenize(text: string, source: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  function fail(message: string): never {
    throw new Error(`${source}:${line}: ${message}`);
  }
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '#' || text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) fail('unterminated /* comment');
      for (; i < end + 2; i++) if (text[i] === '\n') line++;
    } else if (c === '{' || c === '}' || c === ';') {
      tokens.push({ text: c, quoted: false, line });
      i++;
    } else if (c === '"') {
      const start = line;
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) {
          line = start;
          fail('unterminated quoted string');
        }
        const d = text[i]!;
        i++;
        if (d === '"') break;
        if (d === '\n') line++;
        if (d === '\\' && i < text.length) {
          value += text[i];
          i++;
        } else value += d;
      }
      tokens.push({ text: value, quoted: true, line: start });
    } else {
      let word = '';
      while (
        i < text.length &&
        !/[\s{};"#]/.test(text[i]!) &&
        !text.startsWith('//', i) &&
        !text.startsWith('/*', i)
      ) {
        word += text[i];
        i++;
      }
      tokens.push({ text: word, quoted: false, line });
    }
  }
  return tokens;
}

function describe(token: Token | undefined): string {
  if (token === undefined) return 'end of file';
  return token.quoted ? 'a quoted string' : `"${token.text}"`;
}

/** Every key block in the file, in order; throws a plain Error naming the file for anything malformed. */
export function parseTsigKeys(text: string, source: string): TsigKey[] {
  const tokens = tokenize(text, source);
  const keys: TsigKey[] = [];
  const seen = new Map<string, number>();
  let pos = 0;
  let lastLine = 1;

  function fail(message: string, token?: Token): never {
    throw new Error(`${source}:${token?.line ?? lastLine}: ${message}`);
  }
  const next = (): Token | undefined => {
    const token = tokens[pos];
    if (token !== undefined) {
      pos++;
      lastLine = token.line;
    }
    return token;
  };
  const expect = (punct: '{' | '}' | ';', after: string): void => {
    const token = next();
    if (token === undefined || token.quoted || token.text !== punct)
      fail(`expected "${punct}" ${after}, found ${describe(token)}`, token);
  };
  const value = (what: string): Token => {
    const token = next();
    if (token === undefined || (!token.quoted && /^[{};]$/.test(token.text)))
      fail(`expected ${what}, found ${describe(token)}`, token);
    return token;
  };

  while (pos < tokens.length) {
    const head = next()!;
    if (head.quoted || head.text.toLowerCase() !== 'key')
      fail(`expected a key block, found ${describe(head)}`, head);
    const nameToken = value('a key name');
    const name = nameToken.text;
    let canonical: string;
    try {
      canonical = normalizeName(name, 'key name');
    } catch (err) {
      fail((err as Error).message, nameToken);
    }
    const earlier = seen.get(canonical);
    if (earlier !== undefined) fail(`key "${name}" is already defined on line ${earlier}`, nameToken);
    seen.set(canonical, nameToken.line);
    expect('{', `after key "${name}"`);

    let algorithm: TsigAlgorithm | null = null;
    let secret: string | null = null;
    for (;;) {
      const clause = next();
      if (clause === undefined) fail(`key "${name}" is not closed with "};"`);
      if (!clause.quoted && clause.text === '}') break;
      const word = clause.quoted ? '' : clause.text.toLowerCase();
      if (word === 'algorithm') {
        if (algorithm !== null) fail(`key "${name}" has more than one algorithm`, clause);
        const token = value('an algorithm name');
        const lower = token.text.toLowerCase();
        const known = ALGORITHM_ALIASES[lower] ?? (ALGORITHMS.has(lower) ? (lower as TsigAlgorithm) : null);
        if (known === null)
          fail(`algorithm ${token.text} is not supported (use one of ${[...ALGORITHMS].join(', ')})`, token);
        algorithm = known;
      } else if (word === 'secret') {
        if (secret !== null) fail(`key "${name}" has more than one secret`, clause);
        const token = value('a base64 secret');
        // BIND's base64 reader skips white space, so a long secret may be wrapped.
        const compact = token.text.replace(/\s+/g, '');
        if (!BASE64.test(compact) || compact.length % 4 !== 0)
          fail(`the secret of key "${name}" is empty or not base64`, token);
        secret = compact;
      } else {
        fail(`unexpected ${describe(clause)} in key "${name}" (expected algorithm or secret)`, clause);
      }
      expect(';', `after the ${word} of key "${name}"`);
    }
    expect(';', `after the "}" of key "${name}"`);
    if (algorithm === null) fail(`key "${name}" has no algorithm`, nameToken);
    if (secret === null) fail(`key "${name}" has no secret`, nameToken);
    keys.push({ name, algorithm, secret });
  }
  if (keys.length === 0) throw new Error(`${source}: no key block found`);
  return keys;
}

/**
 * The first key in a tsig-keygen file, or the one called `name` (case and a trailing dot do not
 * matter). `source` is how error messages name the file.
 */
export function parseTsigKeyFile(text: string, source: string, name?: string): TsigKey {
  return pickTsigKey(parseTsigKeys(text, source), source, name);
}

/** The first of `keys`, or the one called `name`; `source` names the file they came from. */
export function pickTsigKey(keys: readonly TsigKey[], source: string, name?: string): TsigKey {
  const first = keys[0];
  if (first === undefined) throw new Error(`${source}: no key block found`);
  if (name === undefined) return first;
  const wanted = canonicalName(name);
  const key = keys.find((k) => canonicalName(k.name) === wanted);
  if (key === undefined) {
    const found = keys.map((k) => `"${k.name}"`).join(', ');
    throw new Error(`${source}: no key named "${name}" (the file has ${found})`);
  }
  return key;
}

function canonicalName(name: string): string {
  return (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
}
