/**
 * Makes the compressed variants that bench/compress.ts measures, from trained model directories:
 *
 *   node --import tsx tools/compress-variants.ts --out runs/compress \
 *     --spam runs/spam-teacher --digits runs/digits --g2p runs/g2p-teacher \
 *     [--student spam=runs/spam-student,spam-kd=runs/spam-student-kd,g2p=…,g2p-kd=…] [--fine-tune-steps 40]
 *     [--prune spam,digits] [--tag runs/tag-teacher --fashion runs/fashion-teacher] [--magnitude-prune g2p,tag] [--force]
 *
 * For every task given: <out>/<task>-fp32 (a copy), -int8 (heed compress --quantize int8), -fp16
 * (--weights fp16). For the --prune tasks also -pruned25 / -pruned50: that fraction of all attention heads
 * removed by gradient importance (scored on 256 validation mails), then fine-tuned
 * (src/tasks/prune-classifier.ts); --prune names the tasks that get them (default spam; digits
 * takes the same path through digitsCompressionSetup). For the --magnitude-prune tasks (default g2p,tag:
 * models with heads but no classifier fine-tuning setup) -pruned30 / -pruned50: that fraction of all
 * heads removed by the data-free magnitude score (heed compress --prune-heads), not fine-tuned.
 * Students are copied as <task>-student / <task>-student-kd.
 *
 * Existing variant directories are kept only when they were made from this very teacher: each
 * records its teacher's runId and weights hash in variant-of.json (tools/variant-origin.ts). A
 * directory made from another teacher (it was retrained) or without a record is refused with both
 * identities, before anything is built for it; --force removes such stale directories and builds
 * them again from the given teacher.
 * For spam it also sweeps the fraction of heads removed (accuracy on the validation split right
 * after pruning, heads scored on 64 validation mails; after fine-tuning at 25% and 50%, the pruned
 * variants) into
 * bench/results/prune-heads-spam-<date>.json.
 */
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { uptime, loadavg } from 'node:os';
import type { ClassifierCompressionSetup } from '../src/tasks/prune-classifier.js';
import { HeedError } from '../src/errors.js';
import { prepareVariantDir, recordVariantOrigin, teacherIdentity, type TeacherIdentity } from './variant-origin.js';

/** --key value pairs; --force takes no value. */
function args(): Record<string, string> {
  const a = process.argv.slice(2);
  const out: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--force') out.force = 'true';
    else out[a[i].replace(/^--/, '')] = a[++i];
  }
  return out;
}

const o = args();
const force = o.force === 'true';
const root = o.out ?? 'runs/compress';
const steps = Number(o['fine-tune-steps'] ?? 40);
// Tasks whose heads are pruned (25% and 50%, then fine-tuned); default spam only, as in the first round.
const prune = (o.prune ?? 'spam').split(',');
const magnitudePrune = (o['magnitude-prune'] ?? 'g2p,tag').split(',');
mkdirSync(root, { recursive: true });
// The model code loads only for the tasks given (copying students needs none of it).
const setups: Record<string, (dir: string) => Promise<ClassifierCompressionSetup>> = {
  spam: async (dir) => (await import('../src/tasks/spam.js')).spamCompressionSetup(dir),
  digits: async (dir) => (await import('../src/tasks/digits.js')).digitsCompressionSetup(dir),
};
const compressModelDir: typeof import('../src/tasks/compress.js').compressModelDir = async (...a) => (await import('../src/tasks/compress.js')).compressModelDir(...a);
const pruneClassifierHeads: typeof import('../src/tasks/prune-classifier.js').pruneClassifierHeads = async (...a) => (await import('../src/tasks/prune-classifier.js')).pruneClassifierHeads(...a);
const log = (s: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

/** Builds variant `dir` from `teacher` unless it already holds a variant of this very teacher (see variant-origin.ts). */
async function variant(dir: string, teacher: TeacherIdentity, build: () => Promise<void> | void): Promise<void> {
  if (prepareVariantDir(dir, teacher, { force }) === 'keep') return;
  await build();
  recordVariantOrigin(dir, teacher);
}
const copyModel = (from: string, to: string) => cpSync(from, to, { recursive: true, filter: (p) => !p.includes('/last') && !p.endsWith('metrics.jsonl') });

async function main(): Promise<void> {
  for (const task of ['spam', 'digits', 'g2p', 'tag', 'fashion']) {
    const src = o[task];
    if (!src) continue;
    const at = (v: string) => join(root, `${task}-${v}`);
    const teacher = teacherIdentity(src);
    // fp32 first: every other variant is made from this copy, and is stale when it is.
    await variant(at('fp32'), teacher, () => copyModel(src, at('fp32')));
    await variant(at('int8'), teacher, async () => log(JSON.stringify(await compressModelDir(at('fp32'), at('int8'), { quantize: 'int8' }))));
    await variant(at('fp16'), teacher, async () => log(JSON.stringify(await compressModelDir(at('fp32'), at('fp16'), { weights: 'float16' }))));
    for (const f of magnitudePrune.includes(task) ? [0.3, 0.5] : []) {
      await variant(at(`pruned${f * 100}`), teacher, async () => log(JSON.stringify(await compressModelDir(at('fp32'), at(`pruned${f * 100}`), { pruneHeads: f }))));
    }
    const setup = setups[task];
    if (setup === undefined) continue;
    for (const f of prune.includes(task) ? [0.25, 0.5] : []) {
      const dir = at(`pruned${f * 100}`);
      await variant(dir, teacher, async () => {
        const r = await pruneClassifierHeads(await setup(at('fp32')), { fraction: f, fineTuneSteps: steps }, { out: dir, runId: `pruned${f * 100}`, progress: 'none' });
        log(`${task} pruned ${r.headsRemoved}/${r.headsTotal} heads: valid accuracy ${r.accuracyBefore.toFixed(4)} → ${r.accuracyPruned.toFixed(4)} → fine-tuned ${r.accuracyFineTuned.toFixed(4)}`);
      });
    }
    if (task === 'spam') {
      // Accuracy right after pruning (no fine-tuning) at every fraction; the fine-tuned points are the
      // pruned25 / pruned50 variants above, scored on the same split.
      const { evaluate, loadPredictor } = await import('../src/tasks/index.js');
      const s = await setup(at('fp32'));
      const sweep = [];
      const before = (await evaluate(at('fp32'), { split: 'valid' })).metrics.accuracy;
      for (const f of [0.125, 0.25, 0.375, 0.5, 0.625, 0.75]) {
        const fresh = ((await loadPredictor(at('fp32'))) as unknown as { model: ClassifierCompressionSetup['model'] }).model; // unpruned, same data reading
        const tmp = join(root, `.sweep-${f}`);
        const r = await pruneClassifierHeads({ ...s, model: fresh }, { fraction: f, fineTuneSteps: 0, scoreExamples: 64, skipBefore: true }, { out: tmp, runId: 'sweep', progress: 'none' });
        rmSync(tmp, { recursive: true, force: true });
        const tuned = existsSync(at(`pruned${f * 100}`)) ? (await evaluate(at(`pruned${f * 100}`), { split: 'valid' })).metrics.accuracy : null;
        sweep.push({ fraction: f, headsRemoved: r.headsRemoved, headsTotal: r.headsTotal, plan: r.plan, accuracyBefore: before, accuracyPruned: r.accuracyPruned, accuracyFineTuned: tuned, fineTuneSteps: tuned === null ? 0 : steps });
        log(`spam sweep ${f}: ${JSON.stringify(sweep.at(-1))}`);
      }
      const date = new Date().toISOString().slice(0, 10);
      writeFileSync(`bench/results/prune-heads-spam-${date}.json`, JSON.stringify({
        command: `node --import tsx tools/compress-variants.ts ${process.argv.slice(2).join(' ')}`, split: 'valid', model: src, loadavg: loadavg(), uptimeSeconds: uptime(), sweep,
      }, null, 1) + '\n');
    }
  }
  for (const pair of (o.student ?? '').split(',').filter(Boolean)) {
    const [name, dir] = pair.split('=');
    const [task, kd] = name.split('-');
    const dest = join(root, `${task}-student${kd ? '-kd' : ''}`);
    await variant(dest, teacherIdentity(dir), () => copyModel(dir, dest));
  }
}

try {
  await main();
} catch (e) {
  // A stale or unreadable variant directory: the message says what and the fix, no stack needed.
  if (!(e instanceof HeedError)) throw e;
  console.error(`compress-variants: ${e.constructor.name}: ${e.message}`);
  process.exitCode = 1;
}
