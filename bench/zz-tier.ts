import { heedStep, makeTrainBatch } from './train.ts';
import { setBackend, setNumThreads } from '../src/backend/registry.ts';
setBackend('native'); setNumThreads(1);
const h = await heedStep(makeTrainBatch());
for (let s = 0; s < 30; s++) { console.log(`=== STEP ${s}`); h.step(); }
