// readRegularFile: every file heed reads whole is a regular file of bounded size; devices, pipes,
// directories and oversized files are refused before a byte is read, without hanging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, symlinkSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRegularFile, readRegularFileSync } from '../../src/io/read-file.js';
import { CheckpointError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'heed-readfile-'));
const o = { what: 'test file', maxBytes: 16 };

test('a regular file within the limit is read whole, through a symlink too', async () => {
  writeFileSync(join(dir, 'ok'), 'hello');
  symlinkSync(join(dir, 'ok'), join(dir, 'ok-link'));
  assert.equal((await readRegularFile(join(dir, 'ok'), o)).toString(), 'hello');
  assert.equal(readRegularFileSync(join(dir, 'ok-link'), o).toString(), 'hello');
  writeFileSync(join(dir, 'empty'), '');
  assert.equal(readRegularFileSync(join(dir, 'empty'), o).length, 0);
});

const refused: [string, () => string, RegExp][] = [
  ['a symlink to /dev/zero', () => { const p = join(dir, 'zero'); symlinkSync('/dev/zero', p); return p; }, /is a character device, expected a regular file/],
  ['a FIFO (would block forever on open)', () => { const p = join(dir, 'fifo'); execFileSync('mkfifo', [p]); return p; }, /is a FIFO \(named pipe\), expected a regular file/],
  ['a directory', () => { const p = join(dir, 'sub'); mkdirSync(p); return p; }, /is a directory, expected a regular file/],
  ['a file over the limit', () => { const p = join(dir, 'big'); writeFileSync(p, 'x'.repeat(17)); return p; }, /is 17 bytes, above the 16-byte limit/],
  ['a missing file', () => join(dir, 'nope'), /the test file is missing/],
  ['a dangling symlink', () => { const p = join(dir, 'dangling'); symlinkSync(join(dir, 'gone'), p); return p; }, /the test file is missing/],
];
for (const [what, make, message] of refused) {
  test(`${what} is refused with a CheckpointError naming the file`, async () => {
    const p = make();
    const check = (e: unknown) => e instanceof CheckpointError && message.test(e.message) && e.message.startsWith(p);
    await assert.rejects(() => readRegularFile(p, o), check);
    assert.throws(() => readRegularFileSync(p, o), check);
  });
}
