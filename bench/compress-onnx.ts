/**
 * The g2p row of the compression table run in onnxruntime-node: the fp32 Seq2SeqTransformer exported
 * as its two graphs (src/compress/onnx/models.ts) and driven by a greedy loop here, feeding each
 * step's present_key_i / present_value_i back as past_key_i / past_value_i:
 *
 *   encoder  src_ids (B, S) → memory, memory_key_padding_mask (B, S), cross_key_i / cross_value_i
 *   decoder  input_ids (B, 1), memory_key_padding_mask, cross_*, past_* (B, H, P, hd)
 *            → log_probs (B, 1, V), present_* (B, H, P + 1, hd)
 *
 * The loop is heed's greedyLoop (src/models/greedy.ts) with an awaited step: argmax, stop a word at
 * <eos>, stop when every word is done or after the task's decode length. Its WER and PER are scored
 * on the same first test words as heed's rows, with the task's own vocabularies and metrics; its
 * timing runs in a child that imports onnxruntime-node only (one intra-op thread), on sources
 * encoded beforehand: single-request p50 decodes one word per call (50 calls after bench/compress.ts's warm-up),
 * throughput decodes 64 words in one padded batch (best of 3).
 *
 * Used by bench/compress.ts --onnx; `node --import tsx bench/compress-onnx.ts --child <json>` is the
 * timing child.
 *
 * Letters: B words, S letters, H key/value heads, P decoded steps so far, hd head size, V phonemes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type * as Ort from 'onnxruntime-node';
import { WARMUP_CALLS, cpuMs, p50 } from './compress-timing.ts';

const here = fileURLToPath(import.meta.url);

/** What the greedy loop needs, all plain data (the timing child never loads heed). */
export interface G2pOnnxJob {
  encoder: string;
  decoder: string;
  bos: number;
  eos: number;
  padId: number;
  /** Source ids per word, as the task encodes them. */
  sources: number[][];
  /** Longest output for a batch whose longest source has n letters: min(maxLen − 1, n + 8) as the task. */
  maxPositions: number;
  extraSteps: number;
}

/** Greedy decoding of `sources` in one padded batch; returns the generated ids (no <bos>, no <eos>). */
export async function greedyOnnx(ort: typeof Ort, enc: Ort.InferenceSession, dec: Ort.InferenceSession, job: G2pOnnxJob, sources: number[][]): Promise<number[][]> {
  const B = sources.length, S = Math.max(...sources.map((s) => s.length));
  const src = new Int32Array(B * S).fill(job.padId); // (B, S)
  sources.forEach((s, b) => src.set(s, b * S));
  const e = await enc.run({ src_ids: new ort.Tensor('int32', src, [B, S]) });
  const layers = enc.outputNames.filter((n) => n.startsWith('cross_key_')).length;
  const feeds: Record<string, Ort.Tensor> = { memory_key_padding_mask: e.memory_key_padding_mask };
  for (let i = 0; i < layers; i++) {
    const [, H, , hd] = e[`cross_key_${i}`].dims;
    const empty = new ort.Tensor('float32', new Float32Array(0), [B, H, 0, hd]); // (B, H, 0, hd): P = 0 on the first step
    Object.assign(feeds, { [`cross_key_${i}`]: e[`cross_key_${i}`], [`cross_value_${i}`]: e[`cross_value_${i}`], [`past_key_${i}`]: empty, [`past_value_${i}`]: empty });
  }
  const maxLen = Math.min(job.maxPositions, S + job.extraSteps);
  const tokens: number[][] = Array.from({ length: B }, () => []);
  const done = new Array<boolean>(B).fill(false);
  let last = new Int32Array(B).fill(job.bos);
  for (let t = 0; t < maxLen && done.some((d) => !d); t++) {
    const out = await dec.run({ ...feeds, input_ids: new ort.Tensor('int32', last, [B, 1]) });
    const logp = out.log_probs.data as Float32Array, V = out.log_probs.dims[2]; // (B, 1, V)
    last = Int32Array.from(last, (_, b) => {
      if (done[b]) return job.eos;
      let best = 0;
      for (let v = 1; v < V; v++) if (logp[b * V + v] > logp[b * V + best]) best = v;
      if (best === job.eos) done[b] = true; else tokens[b].push(best);
      return best;
    });
    for (let i = 0; i < layers; i++) Object.assign(feeds, { [`past_key_${i}`]: out[`present_key_${i}`], [`past_value_${i}`]: out[`present_value_${i}`] });
  }
  return tokens;
}

async function sessions(ort: typeof Ort, job: G2pOnnxJob): Promise<[Ort.InferenceSession, Ort.InferenceSession]> {
  const o = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
  return [await ort.InferenceSession.create(job.encoder, o), await ort.InferenceSession.create(job.decoder, o)];
}

/** Timing child: single-word p50, batch-64 throughput, peak RSS, printed as one JSON line. */
async function child(jobFile: string): Promise<void> {
  const ort = await import('onnxruntime-node');
  const job = JSON.parse(readFileSync(jobFile, 'utf8')) as G2pOnnxJob;
  const [enc, dec] = await sessions(ort, job);
  const words = job.sources.slice(0, 64);
  let i = 0;
  // The greedy loop is JavaScript: warmed up as heed's rows are (bench/compress.ts, WARMUP_CALLS).
  const request = await p50(() => greedyOnnx(ort, enc, dec, job, [words[i++ % words.length]]), 50);
  let best = Infinity, bestCpu = Infinity;
  for (let r = 0; r < 3; r++) {
    const c0 = cpuMs(), t0 = performance.now();
    await greedyOnnx(ort, enc, dec, job, words);
    best = Math.min(best, performance.now() - t0);
    bestCpu = Math.min(bestCpu, cpuMs() - c0);
  }
  console.log(JSON.stringify({ p50Ms: request.wall, throughput: words.length / (best / 1000), peakRssBytes: process.resourceUsage().maxRSS * 1024,
    cpuP50Ms: request.cpu, cpuThroughput: words.length / (bestCpu / 1000), warmupCalls: WARMUP_CALLS }));
}

/**
 * The g2p ONNX record of bench/compress.ts: WER / PER of the exported fp32 model under the greedy
 * loop on the first `limit` test words (the words heed's rows are scored on), the bytes of both
 * graphs, and the child's timings.
 */
export async function g2pOnnxRecord(dir: string, tmp: string, limit: number): Promise<Record<string, unknown>> {
  const ort = await import('onnxruntime-node');
  const { loadPredictor } = await import('../src/tasks/index.js');
  const { exportOnnx } = await import('../src/compress/onnx/export.js');
  const { noGrad, Tensor } = await import('../src/index.js');
  const { loadCmudict } = await import('../src/data/cmudict.js');
  const { wordErrorRate, phonemeErrorRate } = await import('../src/train/metrics.js');
  const { BOS_ID, EOS_ID } = await import('../src/data/vocab.js');
  const pred = (await loadPredictor(dir)) as unknown as import('../src/tasks/seq2seq-engine.js').Seq2SeqPredictor;
  const maxLen = pred.settings.model.maxLen;
  const words = loadCmudict().test.words.slice(0, limit);
  const sources = words.map((w) => Array.from(pred.sides.src.encode(w.word, maxLen)));
  const sample = [new Tensor(Int32Array.from(sources[0]), [1, sources[0].length]), new Tensor(Int32Array.of(BOS_ID), [1, 1])];
  const graphs = noGrad(() => exportOnnx(pred.model, sample)).graphs;
  const file = (name: string) => {
    const g = graphs.find((x) => x.name === name);
    if (!g) throw new Error(`bench compress: the g2p export has no '${name}' graph (it has ${graphs.map((x) => x.name).join(', ')}).`);
    const path = join(tmp, `g2p-${name}.onnx`);
    writeFileSync(path, g.bytes);
    return path;
  };
  // decodeLength(n) = n + 8 for g2p; measured here, so another preset's rule would show up.
  const job: G2pOnnxJob = {
    encoder: file('encoder'), decoder: file('decoder'), bos: BOS_ID, eos: EOS_ID, padId: Number(pred.model.config.padId ?? 0),
    sources, maxPositions: maxLen - 1, extraSteps: pred.settings.decodeLength(0),
  };
  const jobFile = join(tmp, 'g2p-onnx.json');
  writeFileSync(jobFile, JSON.stringify(job));
  const [enc, dec] = await sessions(ort, job);
  const outputs: string[][] = [];
  for (let i = 0; i < sources.length; i += 64) {
    for (const t of await greedyOnnx(ort, enc, dec, job, sources.slice(i, i + 64))) outputs.push(pred.sides.tgt.decode(t).split(' ').filter((p) => p !== ''));
  }
  await enc.release();
  await dec.release();
  const refs = words.map((w) => w.pronunciations.map((p) => [...p]));
  const heed = noGrad(() => pred.decode(words.map((w) => w.word))).map((h) => h[0].output.split(' ').filter((p) => p !== ''));
  const agree = outputs.filter((o, i) => o.join(' ') === heed[i].join(' ')).length;
  const r = spawnSync(process.execPath, ['--import', 'tsx', here, '--child', jobFile], { encoding: 'utf8', env: { ...process.env, HEED_QUIET: '1' } });
  if (r.status !== 0) throw new Error(`bench compress: the g2p ONNX child failed: ${r.stderr.slice(-2000)}`);
  const speed = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { p50Ms: number; throughput: number; peakRssBytes: number };
  return {
    metrics: { wer: wordErrorRate(outputs, refs), per: phonemeErrorRate(outputs, refs), words: words.length, agreementWithHeedFp32: agree / words.length },
    checkpointBytes: graphs.reduce((n, g) => n + g.bytes.length, 0), ...speed, runtime: `onnxruntime-node ${ort.env.versions?.common ?? ''}`.trim(),
  };
}

if (process.argv[1] === here && process.argv[2] === '--child') await child(process.argv[3]);
