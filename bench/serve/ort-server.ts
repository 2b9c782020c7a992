/**
 * The peers of `heed serve` in bench/serve/load.ts: a classifier exported to ONNX (heed's exporter)
 * and run by onnxruntime-node behind a bare Fastify route with the same URL, body and bearer key;
 * or (runtime 'heed') the same bare route calling heed's predictor in-process, which separates what
 * heed serve's architecture costs from what the model runtime costs.
 *
 *   node --import tsx bench/serve/ort-server.ts <model dir> <port> [ort|heed]   (HEED_API_KEYS holds the key)
 *
 * What it shares with heed serve: the HTTP framework, JSON parsing, the bearer-key check, and
 * heed's own input encoding (tokenization), so the two differ in the model runtime and in what
 * heed serve adds around it (worker threads, the batching queue, rate limits, metrics, request
 * logs). What it leaves out is therefore a bias in onnxruntime's favour; load.ts says so.
 * onnxruntime runs one request per call, with intraOpNumThreads = --threads (default 1).
 */
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';
import { loadPredictor } from '../../src/tasks/index.js';
import { exportOnnx } from '../../src/compress/onnx/export.js';
import { noGrad } from '../../src/index.js';
import { ROUTES } from '../../src/serve/routes.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import type { Predictor } from '../../src/tasks/predictor.js';
import { getBackend } from '../../src/backend/registry.js';

interface Member {
  model: never;
  encode(inputs: readonly unknown[]): { x: Tensor };
}

const [dir, portText, runtime = 'ort'] = process.argv.slice(2);
const threads = Number(process.env.HEED_ORT_THREADS ?? '1');
const key = (process.env.HEED_API_KEYS ?? '').split(',')[0];
if (!dir || !portText || key === '') {
  console.error('usage: HEED_API_KEYS=<key> node --import tsx bench/serve/ort-server.ts <classifier model dir> <port>');
  process.exit(2);
}

const predictor = (await loadPredictor(dir)) as unknown as { members: Member[]; names: string[] };
if (!Array.isArray(predictor.members) || !Array.isArray(predictor.names)) {
  console.error(`ort-server: ${dir} is not a classifier directory (no members/names); only classifiers export as one graph.`);
  process.exit(2);
}
const member = predictor.members[0];
const names = predictor.names;
const sample = member.encode(['Subject: hello']).x;
const session = runtime === 'ort'
  ? await ort.InferenceSession.create(noGrad(() => exportOnnx(member.model, [sample])).graphs[0].bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' })
  : null;

/** One input's class probabilities, (C), from onnxruntime or from heed's predictor. */
async function classify(input: string): Promise<{ output: string; alternatives: { output: string; score: number }[] }> {
  if (session === null) {
    const p = (predictor as unknown as Predictor).predict([input])[0];
    return { output: String(p.output), alternatives: (p.alternatives ?? []) as { output: string; score: number }[] };
  }
  const x = member.encode([input]).x; // (1, T) int32 ids
  const feed = { [session.inputNames[0]]: new ort.Tensor('int32', x.data as Int32Array, [...x.shape]) };
  const logits = (await session.run(feed))[session.outputNames[0]].data as Float32Array; // (1, C)
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const e = Array.from(logits, (v) => Math.exp(v - max));
  const z = e.reduce((a, b) => a + b, 0);
  const order = e.map((v, c) => [v / z, c]).sort((u, v) => v[0] - u[0]);
  return { output: names[order[0][1]], alternatives: order.map(([s, c]) => ({ output: names[c], score: s })) };
}

const app = Fastify({ logger: false, bodyLimit: 4 << 20 });
app.get(ROUTES.ready, async () => ({ status: 'ready', backend: session ? `onnxruntime-node ${ort.env.versions?.common ?? ''}`.trim() : `heed ${getBackend()} in-process` }));
app.post<{ Params: { name: string }; Body: { input?: unknown } }>(ROUTES.predict, async (req, reply) => {
  if (req.headers.authorization !== `Bearer ${key}`) return reply.code(401).send({ error: 'unauthorized' });
  const input = req.body?.input;
  if (typeof input !== 'string') return reply.code(400).send({ error: 'body.input must be a string' });
  return { model: req.params.name, predictions: [{ input, ...await classify(input) }] };
});

const close = async () => {
  await app.close();
  await session?.release();
  process.exit(0);
};
process.once('SIGTERM', close);
process.once('SIGINT', close);
await app.listen({ host: '127.0.0.1', port: Number(portText) });
