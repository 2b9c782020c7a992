/**
 * Which teacher a compressed variant directory was made from, so that tools/compress-variants.ts
 * never measures a variant of an older teacher as if it were the new one's.
 *
 * Every variant directory gets a `variant-of.json` beside its model files:
 *   { "teacher": "<dir it was made from>", "runId": "<its config.json runId>", "weightsSha256": "<of its model.safetensors>" }
 * written after the variant is complete. The identity is the runId AND the weights' hash: a
 * retrained teacher has a new runId, and a teacher overwritten in place (same runId, e.g.
 * `heed train --resume`) has new weights.
 *
 *   const teacher = teacherIdentity('runs/g2p-teacher');
 *   if (prepareVariantDir('runs/v/g2p-int8', teacher, { force }) === 'build') { build it; recordVariantOrigin(dir, teacher); }
 *
 * A variant directory whose record is missing (made before records existed, or a build that
 * died) or names another teacher is refused with both identities and the fix, or, with
 * force, removed so that it is built again.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../src/errors.js';

export const ORIGIN_FILE = 'variant-of.json';

export interface TeacherIdentity {
  /** The directory the variant is made from, as given. */
  teacher: string;
  /** config.json's runId: the training run that made it. */
  runId: string;
  /** sha256 of model.safetensors, hex. */
  weightsSha256: string;
}

/** The identity of a trained model directory (config.json's runId and its weights' hash). */
export function teacherIdentity(dir: string): TeacherIdentity {
  const configPath = join(dir, 'config.json'), weightsPath = join(dir, 'model.safetensors');
  if (!existsSync(configPath) || !existsSync(weightsPath)) {
    throw new CheckpointError(`compress-variants: ${dir} is not a model directory (expected config.json and model.safetensors). Fix: pass a trained model directory (heed train … --out DIR).`);
  }
  const runId = (JSON.parse(readFileSync(configPath, 'utf8')) as { runId?: unknown }).runId;
  if (typeof runId !== 'string' || runId === '') {
    throw new CheckpointError(`compress-variants: ${configPath} has no runId (received ${JSON.stringify(runId)}), expected the string every heed checkpoint records. Fix: pass a directory saved by heed.`);
  }
  const weightsSha256 = createHash('sha256').update(readFileSync(weightsPath)).digest('hex');
  return { teacher: dir, runId, weightsSha256 };
}

/** The identity recorded in a variant directory, or null when it has none. */
export function recordedOrigin(variantDir: string): TeacherIdentity | null {
  const p = join(variantDir, ORIGIN_FILE);
  if (!existsSync(p)) return null;
  const r = JSON.parse(readFileSync(p, 'utf8')) as Partial<TeacherIdentity>;
  return typeof r.runId === 'string' && typeof r.weightsSha256 === 'string' ? { teacher: String(r.teacher), runId: r.runId, weightsSha256: r.weightsSha256 } : null;
}

const short = (id: TeacherIdentity): string => `runId ${id.runId}, weights sha256 ${id.weightsSha256.slice(0, 12)}… (${id.teacher})`;

/**
 * Decides what to do with a variant directory made from `teacher`:
 *   'build'  it does not exist (or force removed a stale one): build it, then recordVariantOrigin;
 *   'keep'   it exists and was made from this very teacher.
 * Throws CheckpointError when it exists but was made from another teacher (or has no record) and
 * force is off, naming both identities and the fix.
 */
export function prepareVariantDir(variantDir: string, teacher: TeacherIdentity, o: { force: boolean }): 'build' | 'keep' {
  if (!existsSync(variantDir)) return 'build';
  const had = recordedOrigin(variantDir);
  if (had !== null && had.runId === teacher.runId && had.weightsSha256 === teacher.weightsSha256) return 'keep';
  if (o.force) {
    rmSync(variantDir, { recursive: true, force: true });
    return 'build';
  }
  const was = had === null ? `no record of its teacher (no ${ORIGIN_FILE}: made before records existed, or its build did not finish)` : `was made from ${short(had)}`;
  throw new CheckpointError(`compress-variants: ${variantDir} ${was}, but the teacher is now ${short(teacher)}. ` +
    'Its figures would describe another model. Fix: rerun with --force to rebuild the stale variants from this teacher, or delete the directory.');
}

/** Records, after a variant is complete, which teacher it was made from. */
export function recordVariantOrigin(variantDir: string, teacher: TeacherIdentity): void {
  writeFileSync(join(variantDir, ORIGIN_FILE), `${JSON.stringify(teacher, null, 1)}\n`);
}
