/**
 * tools/compress-variants.ts keeps an existing variant directory only when it was made from the
 * very teacher it is given (runId and weights hash, recorded in variant-of.json by
 * tools/variant-origin.ts): a retrained teacher's stale variants are refused with both
 * identities and the fix, or rebuilt with --force; the tool itself is run end to end on the
 * student copies (the variants that need no training or model code).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ORIGIN_FILE, prepareVariantDir, recordVariantOrigin, recordedOrigin, teacherIdentity } from '../../tools/variant-origin.ts';
import { CheckpointError } from '../../src/errors.ts';

const TOOL = fileURLToPath(new URL('../../tools/compress-variants.ts', import.meta.url));

/** A stand-in model directory: what the identity reads (config.json's runId, model.safetensors' bytes). */
function fakeModel(dir: string, runId: string, weights: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ format: 'heed.model', version: 1, task: 'spam', runId }));
  writeFileSync(join(dir, 'model.safetensors'), weights);
}

test('a variant is kept for its own teacher, refused for a retrained one (both ids and --force in the message), rebuilt with force', () => {
  const root = mkdtempSync(join(tmpdir(), 'heed-origin-'));
  try {
    const teacherDir = join(root, 'teacher'), v = join(root, 'spam-int8');
    fakeModel(teacherDir, 'run-A', 'weights A');
    const a = teacherIdentity(teacherDir);
    assert.equal(prepareVariantDir(v, a, { force: false }), 'build');
    mkdirSync(v);
    writeFileSync(join(v, 'model.safetensors'), 'variant of A');
    recordVariantOrigin(v, a);
    assert.deepEqual(recordedOrigin(v), a);
    assert.equal(prepareVariantDir(v, a, { force: false }), 'keep');

    fakeModel(teacherDir, 'run-B', 'weights B'); // retrained
    const b = teacherIdentity(teacherDir);
    assert.throws(() => prepareVariantDir(v, b, { force: false }), (e: unknown) => e instanceof CheckpointError &&
      /run-A/.test(e.message) && /run-B/.test(e.message) && /--force/.test(e.message));
    assert.ok(existsSync(join(v, 'model.safetensors')), 'a refused variant is left as it was');

    // Same runId, new weights (resumed in place): stale too.
    fakeModel(teacherDir, 'run-A', 'weights A, trained further');
    assert.throws(() => prepareVariantDir(v, teacherIdentity(teacherDir), { force: false }), CheckpointError);

    assert.equal(prepareVariantDir(v, b, { force: true }), 'build');
    assert.equal(existsSync(v), false, 'force removes the stale directory so the build starts clean');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a variant directory without a record (older tool, or a build that died) is refused unless forced', () => {
  const root = mkdtempSync(join(tmpdir(), 'heed-origin-'));
  try {
    fakeModel(join(root, 't'), 'run-A', 'w');
    mkdirSync(join(root, 'old'));
    assert.throws(() => prepareVariantDir(join(root, 'old'), teacherIdentity(join(root, 't')), { force: false }),
      (e: unknown) => e instanceof CheckpointError && new RegExp(`no ${ORIGIN_FILE.replace('.', '\\.')}`).test(e.message));
    assert.throws(() => teacherIdentity(join(root, 'old')), (e: unknown) => e instanceof CheckpointError && /not a model directory/.test(e.message));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('tools/compress-variants.ts end to end: copies with a record, refuses a retrained source, rebuilds with --force', () => {
  const root = mkdtempSync(join(tmpdir(), 'heed-variants-'));
  try {
    const student = join(root, 'spam-student-train'), out = join(root, 'variants');
    fakeModel(student, 'run-1', 'student weights 1');
    const run = (...extra: string[]) => spawnSync(process.execPath, ['--import', 'tsx', TOOL, '--out', out, '--student', `spam=${student}`, ...extra], { encoding: 'utf8' });
    let r = run();
    assert.equal(r.status, 0, r.stderr);
    const dest = join(out, 'spam-student');
    assert.equal(recordedOrigin(dest)?.runId, 'run-1');

    fakeModel(student, 'run-2', 'student weights 2');
    r = run();
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /run-1/);
    assert.match(r.stderr, /run-2/);
    assert.match(r.stderr, /--force/);
    assert.equal(readFileSync(join(dest, 'model.safetensors'), 'utf8'), 'student weights 1', 'nothing was overwritten');

    r = run('--force');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(dest, 'model.safetensors'), 'utf8'), 'student weights 2');
    assert.equal(recordedOrigin(dest)?.runId, 'run-2');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
