// Child process for checkpoint.test.ts: saves a checkpoint and is SIGKILLed at a chosen point of
// the save, as a power cut or `kill -9` would stop it. fs/promises is wrapped before the checkpoint
// module is imported (syncBuiltinESMExports updates its named imports), so the code under test
// runs unchanged.
//
//   node --import tsx test/train/crash-save.ts <dir> <value> <kill-point>
//   kill-point: 'write' (after the first file of the new copy), 'complete' (after tmp → new),
//               'aside' (after the old copy is moved aside), 'none'
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';

const [dir, value, killPoint] = process.argv.slice(2);
const die = () => process.kill(process.pid, 'SIGKILL');
const rename = fsp.rename;
const open = fsp.open;
let opened = 0;
fsp.rename = async (from, to) => {
  await rename(from, to);
  const name = String(to);
  if (killPoint === 'complete' && /\.new-\d+-[0-9a-f]+$/.test(name)) die();
  if (killPoint === 'aside' && /\.old-\d+-[0-9a-f]+$/.test(name)) die();
};
fsp.open = (async (...args: Parameters<typeof open>) => {
  const fh = await open(...args);
  if (killPoint === 'write' && args[1] === 'wx' && ++opened === 2) die();
  return fh;
}) as typeof open;
syncBuiltinESMExports();

const { saveCheckpoint } = await import('../../src/io/checkpoint.js');
const { Tensor } = await import('../../src/tensor/tensor.js');
await saveCheckpoint(dir, {
  task: 'toy', runId: 'crash', config: { value: Number(value) },
  weights: { w: new Tensor(Float32Array.from([Number(value), 1, 2]), [3]) }, trainerState: { step: Number(value) },
});
