/**
 * Transfer learning and PEFT on the spam task: from scratch vs from a pretrained masked LM, with
 * 100% and 10% of the labels, and LoRA / bottleneck adapters vs full fine-tuning. With `--task tag`,
 * the same study on WNUT-17 NER (see "NER" below).
 *
 *   node --import tsx bench/transfer.ts --pretrained runs/mlm [--untrained runs/mlm-untrained] [--steps 150] [--jobs 3] [--only scratch-100,lora-100]
 *       [--split valid] [--extra "--lr 0.005"] [--tag lr5e-3]
 *
 * PEFT against full fine-tuning on one budget (the lead's rerun):
 *   node --import tsx bench/transfer.ts --pretrained runs/mlm --only pretrained-100,lora-100,lora-linear-100,adapter-100,prefix-100
 *
 * Peak memory of full fine-tuning against LoRA (BENCHMARKS.md, "PEFT memory"): pairs run one after the other, each
 * process's RSS sampled with its phase, validation scores from the runs' own final evaluation:
 *   node --import tsx bench/init-mlm.ts --out runs/mlm256     # an untrained d 256, 4-layer MaskedLM with 30,005 words
 *   nice -n 19 node --import tsx bench/transfer.ts --pretrained runs/mlm256 --steps 15 --log-every 1 --jobs 1 --repeat 3 \
 *     --only pretrained-100,lora-100 --split valid --score-from-log --tag mem256 --out-root runs/transfer-mem256 \
 *     --rss-timeline bench/results/transfer-mem256-rss-2026-12-05
 *
 * Tuning on validation only: `--split valid` scores no run on test (the file then holds validation
 * figures only); `--extra` appends flags to every run and `--tag` names the variant in the file.
 *
 * runs/mlm: `heed pretrain mlm --batch-size 16 --lr 0.002 --warmup-steps 50 --max-steps 100000 --time-limit 720
 * --schedule-by-time true --eval-every 150 --out runs/mlm`; runs/mlm-untrained: the same vocabulary after one step
 * at lr 1e-9 (`heed pretrain mlm --batch-size 16 --lr 1e-9 --warmup-steps 0 --max-steps 1 --eval-every 0 --out runs/mlm-untrained`).
 *
 * Each run is its own `heed train spam` process (so its peak RSS is its own, read by
 * /usr/bin/time -f %M), scored once on the test split with `heed eval --split test` after
 * training (the best validation checkpoint is the model). Step time = the time between the first
 * and the last logged step over the steps between them (no evaluation falls inside: evalEvery 0).
 * Writes bench/results/transfer-<date>.json (transfer-ner-<date>.json for tag) with every run's command, figures and
 * the machine load; test/docs/figures.test.ts then wants its figures quoted in BENCHMARKS.md. A pipeline check that
 * is no figure goes to bench/results/smoke/ (`--tag smoke` names it so; e.g. smoke/transfer-ner-2026-12-05T0439-smoke.json).
 *
 * NER (`--task tag`): `heed train tag` on WNUT-17 (`--data-dir`, default ../shared/data/ner). WNUT's
 * test split is held back, so the model is selected on a 10% hash split of wnut17train (the tag
 * template's split when no --valid is given) and emerging.dev is passed as the template's --test
 * file: scored once per run, after training, by `heed eval --split test` (the file then says
 * "dev"). From scratch, the tagger has the pretrained model's sizes (d 64, 4 heads, 2 layers, FF 256,
 * 128 positions), so only the start differs; both read the WNUT recipe of BENCHMARKS.md (lr 3e-3,
 * dropout 0.1, batch 16, CRF) and keep the best validation checkpoint (--eval-every).
 *
 *   zcat ../shared/data/ner/wnut17train.conll.gz | awk -F'\t' 'NF >= 2 { printf "%s ", $1; next } { print "" }' > runs/wnut17-train.txt
 *   HEED_NUM_THREADS=1 heed pretrain mlm --corpus sotu,moby-dick --text-files runs/wnut17-train.txt --batch-size 32 --lr 0.002 \
 *     --warmup-steps 100 --max-steps 100000 --time-limit 1200 --schedule-by-time true --eval-every 500 --out runs/mlm-ner
 *   node --import tsx bench/transfer.ts --task tag --pretrained runs/mlm-ner --steps 3000 --eval-every 250 --jobs 2 \
 *     --only scratch-100,scratch-10,pretrained-100,pretrained-10 --out-root runs/transfer-ner
 * The controls (untrained-100, untrained-10) need `--untrained runs/mlm-ner-untrained`: the same pretrain command
 * with `--lr 1e-9 --warmup-steps 0 --max-steps 1 --eval-every 0` (same text, so the same vocabulary).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  task: { kind: 'string', default: 'spam', choices: ['spam', 'tag'], help: 'spam, or tag (WNUT-17 NER)' },
  pretrained: { kind: 'string', default: 'runs/mlm', help: 'the pretrained MLM run' },
  'data-dir': { kind: 'string', default: '../shared/data/ner', help: 'tag: the folder holding wnut17train.conll.gz and emerging.dev.conll.gz' },
  'eval-every': { kind: 'int', default: 250, min: 0, help: 'tag: validations on the held-out part of train, to keep the best checkpoint (0 = the last)' },
  untrained: { kind: 'string', default: 'runs/mlm-untrained', help: 'the untrained MLM run (same architecture)' },
  steps: { kind: 'int', default: 150, min: 1, help: 'spam: training steps per run' },
  jobs: { kind: 'int', default: 3, min: 1, help: 'trainings at a time' },
  'out-root': { kind: 'string', default: 'runs/transfer', help: 'where the runs go' },
  only: { kind: 'strings', default: [], help: 'only these run names' },
  split: { kind: 'string', default: 'test', choices: ['test', 'valid'], help: 'test: score each run once on test after training; valid: tuning, never touch test' },
  extra: { kind: 'string', default: '', help: 'more heed train flags for every run (space-separated, one word)' },
  tag: { kind: 'string', default: '', help: 'a suffix for the run names and the results file' },
  reuse: { kind: 'string', default: '', help: 'a results file of an earlier validation-only invocation: runs with the same command are scored, not trained again' },
  repeat: { kind: 'int', default: 1, min: 1, help: 'runs of every name, in rounds (a, b, a, b, ...)' },
  'rss-timeline': { kind: 'string', default: '', help: 'a folder for one RSS timeline per run (<folder>/<run>.txt)' },
  'score-from-log': { kind: 'bool', help: 'with --split valid: take each run\'s validation scores from its own final evaluation' },
  'log-every': { kind: 'int', default: 10, min: 1, help: 'heed train --log-every' },
});
/** 'spam' (default) or 'tag' (WNUT-17 NER). */
const task = flags.task;
const pretrained = flags.pretrained;
/** tag: the folder holding wnut17train.conll.gz and emerging.dev.conll.gz. */
const dataDir = flags.dataDir;
/** tag: validations on the held-out part of train, to keep the best checkpoint (0 = the last). */
const evalEvery = String(flags.evalEvery);
const untrained = flags.untrained;
const steps = String(flags.steps);
const jobs = flags.jobs;
const root = flags.outRoot;
const only = flags.only;
/** 'test' (default): score each run once on test after training; 'valid': tuning, never touch test. */
const split = flags.split;
const extra = flags.extra.split(' ').filter((s) => s !== '');
const tag = flags.tag;
/**
 * A results file of an earlier (validation-only) invocation: a run whose command there equals this
 * one's is not trained again; its training figures are copied and its directory is scored on
 * `--split` (so the configs chosen on validation are scored on test once, without retraining).
 */
const reuse = flags.reuse;
/** Runs of every name, in rounds (a, b, a, b, ...), so that pairs of methods are measured one after the other. */
const repeat = flags.repeat;
/**
 * A folder for one RSS timeline per run (<folder>/<run>.txt): VmRSS and VmHWM of the training process
 * read from /proc every 0.1 s, each line with the run's phase (load, train, end = the final validation
 * and checkpointing), so a peak can be placed. '' = none.
 */
const timelineDir = flags.rssTimeline;
/**
 * With --split valid: take each run's validation scores from its own final evaluation (metrics.jsonl;
 * with --eval-every 0 that evaluation chose the saved model) instead of scoring its directory again
 * in a second process. Saves minutes per run on a busy machine; the scores are the same model's on the same split.
 */
const scoreFromLog = flags.scoreFromLog;
if (scoreFromLog && split !== 'valid') throw new Error('--score-from-log: only with --split valid (test is scored once, by heed eval)');

/** The shared recipe: small batches and no mid-run evaluation keep each run within minutes on a busy machine. */
const logEvery = String(flags.logEvery);
const SPAM_COMMON = ['--max-steps', steps, '--batch-size', '16', '--warmup-steps', '20', '--eval-every', '0', '--log-every', logEvery, '--seed', '0'];
const SPAM_RUNS: Record<string, string[]> = {
  'scratch-100': ['--max-len', '128'],
  'scratch-10': ['--max-len', '128', '--label-fraction', '0.1'],
  'pretrained-100': ['--init-from', pretrained],
  'pretrained-10': ['--init-from', pretrained, '--label-fraction', '0.1'],
  // LoRA: rank 8 on q and v (Hu et al.'s choice) + a rank-1 update of the word table (loraEmbedR); the head trains in full. 1.8% trainable.
  'lora-100': ['--init-from', pretrained, '--peft', 'lora', '--lr', '0.002', '--peft-targets', 'qProj,vProj', '--lora-embed-r', '1'],
  // LoRA rank 8 on every Linear, the word table frozen: the 2026-12-04 row (1.6% trainable).
  'lora-linear-100': ['--init-from', pretrained, '--peft', 'lora', '--lr', '0.002', '--peft-targets', 'qProj,kProj,vProj,outProj,linear1,linear2', '--lora-embed-r', '0'],
  'adapter-100': ['--init-from', pretrained, '--peft', 'adapter', '--lr', '0.002'],
  'prefix-100': ['--init-from', pretrained, '--peft', 'prefix', '--lr', '0.002'],
  // Controls: the same start, without the pretraining (a MaskedLM after one step at lr 1e-9:
  // BERT's N(0, 0.02²) embeddings, the same vocabulary), to separate initialisation from pretraining.
  'untrained-100': ['--init-from', untrained],
  'untrained-10': ['--init-from', untrained, '--label-fraction', '0.1'],
};

/** NER: the WNUT recipe (BENCHMARKS.md, "WNUT-17: short dev runs to choose the flags"); dev is the --test file, scored once. */
const TAG_COMMON = [
  '--train', join(dataDir, 'wnut17train.conll.gz'), '--test', join(dataDir, 'emerging.dev.conll.gz'),
  '--max-steps', steps, '--batch-size', '16', '--lr', '3e-3', '--dropout', '0.1', '--warmup-steps', '50', '--eval-every', evalEvery, '--log-every', '10', '--seed', '0',
];
/** From scratch: the MaskedLM's default sizes (src/models/masked-lm.ts), so only the start differs. */
const MLM_SIZES = ['--d-model', '64', '--num-heads', '4', '--num-layers', '2', '--dim-feedforward', '256', '--max-len', '128'];
const TAG_RUNS: Record<string, string[]> = {
  'scratch-100': MLM_SIZES,
  'scratch-10': [...MLM_SIZES, '--label-fraction', '0.1'],
  'pretrained-100': ['--init-from', pretrained],
  'pretrained-10': ['--init-from', pretrained, '--label-fraction', '0.1'],
  'lora-100': ['--init-from', pretrained, '--peft', 'lora'],
  'frozen-100': ['--init-from', pretrained, '--freeze', 'encoder'],
  // Controls, as for spam: the same start and vocabulary without the pretraining (--untrained: a MaskedLM after one step at lr 1e-9).
  'untrained-100': ['--init-from', untrained],
  'untrained-10': ['--init-from', untrained, '--label-fraction', '0.1'],
};

const COMMON = task === 'tag' ? TAG_COMMON : SPAM_COMMON;
const RUNS = task === 'tag' ? TAG_RUNS : SPAM_RUNS;
/** The scores kept from `heed eval --json`, and the line that gives the model's size. */
const SCORES = task === 'tag' ? ['f1', 'precision', 'recall', 'macroF1'] : ['accuracy', 'macroF1'];
const PARAMS = task === 'tag' ? /WordTagger with ([\d,]+) parameters/ : /EncoderClassifier ([\d,]+) parameters/;
const pick = (o: Record<string, number>): Record<string, number> => Object.fromEntries(SCORES.filter((k) => k in o).map((k) => [k, o[k]]));

interface RunResult {
  name: string;
  command: string;
  trainable: number | null;
  total: number | null;
  peakRssMB: number;
  /** Size of the run's optimizer state file (last/optimizer.safetensors): what the optimizer keeps per trained weight. */
  optimizerStateMB: number;
  msPerStep: number;
  steps: number;
  valid: Record<string, number>;
  test: Record<string, number>;
  loadBefore: number[];
  loadAfter: number[];
  /** With --rss-timeline: the highest VmRSS sampled in each phase (MB) and the timeline file. */
  rssByPhase?: Record<string, number>;
  timeline?: string;
  /** The results file whose trained run this one scored (--reuse). */
  reusedFrom?: string;
}

function run(cmd: string[], env: NodeJS.ProcessEnv, onStart?: (pid: number) => void): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd[0], cmd.slice(1), { env });
    if (p.pid !== undefined) onStart?.(p.pid);
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** The pid of the node process under `/usr/bin/time nice node ...` (time's only child; nice execs node). */
function childPid(pid: number): number | null {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((x) => x !== '');
    return kids.length > 0 ? Number(kids[0]) : null;
  } catch {
    return null;
  }
}

/** VmRSS and VmHWM of a process in kB, or null once it has exited. */
function vm(pid: number): { rss: number; hwm: number } | null {
  try {
    const st = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+)/.exec(st), hwm = /VmHWM:\s+(\d+)/.exec(st);
    return rss && hwm ? { rss: Number(rss[1]), hwm: Number(hwm[1]) } : null; // an exited (zombie) process has neither
  } catch {
    return null;
  }
}

/** The run's phase from its metrics.jsonl: 'load' before the first logged step, 'train', then 'end' after the last step. */
function phaseOf(metricsPath: string): string {
  if (!existsSync(metricsPath)) return 'load';
  const lines = readFileSync(metricsPath, 'utf8').trim().split('\n').filter((l) => l !== '');
  const last = lines.length > 0 ? JSON.parse(lines[lines.length - 1]) : null;
  if (last === null) return 'load';
  return last.type === 'eval' || (last.type === 'step' && last.step >= Number(steps)) ? 'end' : 'train';
}

/**
 * Samples the process under `timePid` every 0.1 s until it exits; returns the lines of the timeline
 * ("seconds VmRSS_MB VmHWM_MB phase") and the highest VmRSS of each phase.
 */
function sampleRss(timePid: number, metricsPath: string): { stop: () => { lines: string[]; byPhase: Record<string, number> } } {
  const t0 = Date.now();
  const lines: string[] = [];
  const byPhase: Record<string, number> = {};
  let pid: number | null = null;
  const tick = () => {
    pid ??= childPid(timePid);
    const v = pid === null ? null : vm(pid);
    if (v === null) return;
    const phase = phaseOf(metricsPath);
    byPhase[phase] = Math.max(byPhase[phase] ?? 0, v.rss / 1024);
    lines.push(`${((Date.now() - t0) / 1000).toFixed(1)} ${(v.rss / 1024).toFixed(1)} ${(v.hwm / 1024).toFixed(1)} ${phase}`);
  };
  const timer = setInterval(tick, 100);
  return { stop: () => (clearInterval(timer), { lines, byPhase }) };
}

async function one(name: string, round: number): Promise<RunResult> {
  const label = `${tag ? `${name}-${tag}` : name}${repeat > 1 ? `-${round}` : ''}`;
  const out = join(root, tag ? `${name}-${tag}` : name);
  const heedArgs = ['train', task, ...COMMON, ...RUNS[name], ...extra, '--out', out, '--overwrite', '--progress', 'none'];
  const env = { ...process.env, HEED_NUM_THREADS: '1' };
  const command = `node bin/heed.js ${heedArgs.join(' ')}`;
  const earlier = reuse ? (JSON.parse(readFileSync(reuse, 'utf8')).runs as RunResult[]).find((r) => r.command === command) : undefined;
  if (earlier !== undefined) {
    const e = await run(['nice', 'node', 'bin/heed.js', 'eval', out, '--split', split, '--json'], env);
    if (e.code !== 0) throw new Error(`${name}: heed eval failed:\n${e.stderr}`);
    const scored = JSON.parse(e.stdout.trim().split('\n').pop()!);
    return { ...earlier, [split]: pick(scored), reusedFrom: reuse };
  }
  const loadBefore = loadavg();
  rmSync(join(out, 'metrics.jsonl'), { force: true }); // an earlier round's log would name the new process's phase
  let sampler: ReturnType<typeof sampleRss> | null = null;
  const t = await run(['/usr/bin/time', '-f', 'peakRssKB %M', 'nice', 'node', 'bin/heed.js', ...heedArgs], env, (pid) => {
    if (timelineDir !== '') sampler = sampleRss(pid, join(out, 'metrics.jsonl'));
  });
  const sampled = (sampler as ReturnType<typeof sampleRss> | null)?.stop() ?? null;
  if (t.code !== 0) throw new Error(`${name}: heed train failed (${t.code}):\n${t.stdout}\n${t.stderr}`);
  let timeline: string | undefined;
  if (sampled !== null) {
    mkdirSync(timelineDir, { recursive: true });
    timeline = join(timelineDir, `${label}.txt`);
    writeFileSync(timeline, `# seconds VmRSS_MB VmHWM_MB phase, sampled every 0.1 s from /proc of: ${command}\n# loadavg before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}; /usr/bin/time peak ${(Number(/peakRssKB (\d+)/.exec(t.stderr)?.[1]) / 1024).toFixed(1)} MB\n${sampled.lines.join('\n')}\n`);
  }
  const rss = Number(/peakRssKB (\d+)/.exec(t.stderr)?.[1] ?? NaN);
  const share = /([\d,]+) of ([\d,]+) parameters trainable/.exec(t.stdout);
  const params = PARAMS.exec(t.stdout);
  const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
  const stepLines = lines.filter((l) => l.type === 'step');
  const first = stepLines[0], last = stepLines[stepLines.length - 1];
  const msPerStep = (Date.parse(last.time) - Date.parse(first.time)) / Math.max(1, last.step - first.step);
  // The kept model is the best validation checkpoint (the last evaluation when there was one only).
  const evals = lines.filter((l) => l.type === 'eval');
  const metric = task === 'tag' ? 'f1' : 'accuracy';
  const ev = evals.reduce((best, l) => (best === undefined || l[metric] > best[metric] ? l : best), undefined) ?? {};
  let scored: Record<string, number> = ev;
  if (!scoreFromLog) {
    const e = await run(['nice', 'node', 'bin/heed.js', 'eval', out, '--split', split, '--json'], env);
    if (e.code !== 0) throw new Error(`${name}: heed eval failed:\n${e.stderr}`);
    scored = JSON.parse(e.stdout.trim().split('\n').pop()!);
  }
  const valid = split === 'valid' ? pick(scored) : pick(ev);
  const num = (s: string | undefined) => (s === undefined ? null : Number(s.replace(/,/g, '')));
  const total = num(share?.[2]) ?? num(params?.[1]);
  return {
    ...(sampled !== null ? { rssByPhase: sampled.byPhase, timeline } : {}),
    name: label, command: `node bin/heed.js ${heedArgs.join(' ')}`, trainable: num(share?.[1]) ?? total, total, peakRssMB: rss / 1024, msPerStep,
    optimizerStateMB: statSync(join(out, 'last', 'optimizer.safetensors')).size / 2 ** 20,
    steps: last.step, valid, test: split === 'test' ? pick(scored) : {}, loadBefore, loadAfter: loadavg(),
  };
}

/** The checked-out commit (the code the runs measured), or '' outside a git checkout. */
function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/** A run's name without the --tag suffix. */
const baseName = (name: string): string => (tag && name.endsWith(`-${tag}`) ? name.slice(0, -tag.length - 1) : name);

async function main(): Promise<void> {
  const names = only.length > 0 ? only : Object.keys(RUNS);
  for (const n of names) if (!(n in RUNS)) throw new Error(`unknown run '${n}'; runs: ${Object.keys(RUNS).join(', ')}`);
  mkdirSync(root, { recursive: true });
  const results: RunResult[] = [];
  const queue = Array.from({ length: repeat }, (_, r) => names.map((n) => ({ n, round: r + 1 }))).flat();
  const started = new Date().toISOString();
  const commit = gitCommit(); // the code the runs measure: read before they start
  await Promise.all(Array.from({ length: Math.min(jobs, names.length) }, async () => {
    for (let q = queue.shift(); q !== undefined; q = queue.shift()) {
      const r = await one(q.n, q.round);
      results.push(r);
      console.log(JSON.stringify(r));
    }
  }));
  const file = join('bench', 'results', ...(tag === 'smoke' ? ['smoke'] : []), `transfer-${task === 'tag' ? 'ner-' : ''}${started.slice(0, 16).replace(/:/g, '')}${split === 'valid' ? '-valid' : ''}${tag ? `-${tag}` : ''}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({
    bench: 'transfer', task, started, repeat, commit, finished: new Date().toISOString(), pretrained, steps: Number(steps), jobs, split, extra: extra.join(' '),
    note: `${task === 'tag' ? "tag task on WNUT-17: 'valid' = the best validation on a 10% hash split of wnut17train; 'test' = emerging.dev (WNUT's test is held back), scored once per run" : 'spam task'}; each run one process with HEED_NUM_THREADS=1, ${jobs} at a time on a shared 2-core machine (loadavg before/after each run)${scoreFromLog ? '; validation scores from each run\'s own final evaluation (metrics.jsonl)' : ''}; ${split === 'test' ? 'test split scored once per run' : 'validation only (tuning): test not scored'}.`,
    // Repeated runs stay in the order they ran (rounds of pairs); otherwise in --only's order.
    runs: repeat > 1 ? results : results.sort((a, b) => names.indexOf(baseName(a.name)) - names.indexOf(baseName(b.name))),
  }, null, 2) + '\n');
  console.log(`wrote ${file}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
