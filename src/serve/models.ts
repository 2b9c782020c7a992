/**
 * The served models: name → directory (fixed at start; requests can never name a path) and
 * the version currently loaded in the workers.
 *
 * Hot reload loads the directory again under a new version key next to the old one, warms
 * it up, then swaps the name over in one assignment. Batches already sent keep the old
 * version; the old version is unloaded after them (workers handle messages in order). A
 * reload that fails leaves the old version serving.
 */
import { HttpError } from './errors.js';
import type { ModelSpec } from './config.js';
import type { WorkerPool } from './pool.js';

export interface ModelEntry {
  name: string;
  dir: string;
  version: string;
  task: string;
  config: Record<string, unknown>;
  loadedAt: string;
}

export class ModelRegistry {
  private readonly entries = new Map<string, ModelEntry>();
  private generation = 0;
  private reloading = new Map<string, Promise<ModelEntry>>();

  constructor(private readonly specs: readonly ModelSpec[], private readonly pool: WorkerPool) {}

  get names(): string[] {
    return this.specs.map((s) => s.name);
  }

  get(name: string): ModelEntry | undefined {
    return this.entries.get(name);
  }

  all(): ModelEntry[] {
    return [...this.entries.values()];
  }

  versionOf(name: string): string {
    const e = this.entries.get(name);
    if (e === undefined) throw new HttpError(404, 'not_found', `model '${name}' is not loaded`);
    return e.version;
  }

  async loadAll(): Promise<void> {
    for (const spec of this.specs) await this.load(spec);
  }

  /** Reloads one model (or all) from its directory and swaps it in atomically. */
  async reload(name?: string): Promise<ModelEntry[]> {
    const specs = name === undefined ? this.specs : this.specs.filter((s) => s.name === name);
    if (specs.length === 0) throw new HttpError(404, 'not_found', `no model named '${name}'. Served models: ${this.names.join(', ')}.`);
    const out: ModelEntry[] = [];
    for (const spec of specs) {
      // Concurrent reloads of one model share the same load.
      let p = this.reloading.get(spec.name);
      if (p === undefined) {
        p = this.load(spec)
          .catch((e: Error) => {
            throw new HttpError(500, 'reload_failed', `reloading '${spec.name}' failed: ${e.name}: ${e.message}; the previous version keeps serving`);
          })
          .finally(() => this.reloading.delete(spec.name));
        this.reloading.set(spec.name, p);
      }
      out.push(await p);
    }
    return out;
  }

  private async load(spec: ModelSpec): Promise<ModelEntry> {
    const version = `${spec.name}@${++this.generation}`;
    const { task, config } = await this.pool.load(version, spec.members ?? spec.dir);
    const entry: ModelEntry = { name: spec.name, dir: spec.dir, version, task, config, loadedAt: new Date().toISOString() };
    const old = this.entries.get(spec.name);
    this.entries.set(spec.name, entry);
    if (old !== undefined) await this.pool.unload(old.version);
    return entry;
  }
}
