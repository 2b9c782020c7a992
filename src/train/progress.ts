/**
 * Training progress: a one-line bar redrawn in place on a TTY
 *   step 120/2000 [###.......]  6%  loss 2.314  1830 tok/s  lr 1.2e-3  ETA 3:05
 * and plain lines (every `every` steps) when stdout is not a terminal (logs, CI, pipes).
 */
export interface ProgressStats {
  loss: number;
  tokensPerSecond: number;
  lr: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

export class Progress {
  private readonly tty: boolean;
  private readonly enabled: boolean;
  private readonly t0 = Date.now();
  private startStep: number | null = null;
  private drawn = false;
  private lastDraw = 0;

  /** `timeLimit` (seconds, 0 = none): a run that ends on time shows time-based progress and ETA. */
  constructor(private readonly total: number, mode: 'auto' | 'plain' | 'none', private readonly every: number,
    private readonly timeLimit = 0, private readonly out: NodeJS.WriteStream = process.stdout) {
    this.enabled = mode !== 'none';
    this.tty = mode === 'auto' && Boolean(out.isTTY);
  }

  update(step: number, s: ProgressStats): void {
    if (!this.enabled) return;
    if (this.startStep === null) this.startStep = step - 1;
    const elapsed = (Date.now() - this.t0) / 1000;
    const rate = (step - this.startStep) / Math.max(elapsed, 1e-9);
    let eta = (this.total - step) / rate;
    let frac = step / this.total;
    const byTime = this.timeLimit > 0 && elapsed / this.timeLimit > frac;
    if (byTime) {
      frac = Math.min(1, elapsed / this.timeLimit);
      eta = Math.max(0, this.timeLimit - elapsed);
    }
    const pct = Math.floor(100 * frac);
    const text = `step ${step}${byTime ? '' : `/${this.total}`} ${this.tty ? bar(frac) + ' ' : ''}${String(pct).padStart(3)}%  loss ${s.loss.toFixed(3)}  ` +
      `${Math.round(s.tokensPerSecond)} tok/s  lr ${s.lr.toExponential(1)}  ETA ${formatDuration(eta)}`;
    if (this.tty) {
      const now = Date.now();
      if (now - this.lastDraw < 100 && step < this.total) return;
      this.lastDraw = now;
      this.out.write(`\r${text}\x1b[K`);
      this.drawn = true;
    } else if (step % this.every === 0 || step === this.total) {
      this.out.write(text + '\n');
    }
  }

  /** Ends the bar's line so other output can be printed. */
  pause(): void {
    if (this.tty && this.drawn) {
      this.out.write('\n');
      this.drawn = false;
    }
  }

  resume(): void {}

  done(): void {
    this.pause();
  }
}

function bar(f: number, width = 20): string {
  const n = Math.max(0, Math.min(width, Math.round(f * width)));
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}]`;
}
