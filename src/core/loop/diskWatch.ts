// The free-space check of a run that streams its arrays to disk (docs/trainer-semantics.md#accumulation-across-batches):
// before the first batch is written, and again as the run goes (every CHECK_EVERY_BYTES accumulated, and
// whenever a wider batch raises the projection), so a disk that fills up during the run (another writer, a
// projection that grew with longer generated sequences) stops the run with a clear message instead of a
// failed write. The projection is the widest batch so far, per sample, times the samples: Trainer pads every
// batch to the widest, so that is what the final arrays take.
import { EvalpredError } from '../errors';
import { humanBytes } from '../tensor/diskSpace';

/** Accumulated bytes between two free-space checks (a statfs call each; 80 checks over 5 GB of logits). */
export const CHECK_EVERY_BYTES = 64 * 1024 * 1024;

export class DiskWatch {
  private perSample = 0;
  private widestBatch = 0;
  private batches = 0;
  private sinceCheck = 0;
  private checkedProjection = 0;
  /** Free bytes at the last check. */
  lastFree: number | undefined;

  /**
   * @param dir where the arrays are written (a reserved cache write's temp folder)
   * @param numItems the samples (features) the run evaluates
   * @param freeBytes free bytes on the disk holding `dir` (diskSpace.ts's freeBytes; tests pass a fake)
   * @param every accumulated bytes between two checks
   */
  constructor(
    readonly dir: string,
    readonly numItems: number,
    private readonly freeBytes: (dir: string) => number,
    private readonly every = CHECK_EVERY_BYTES,
  ) {}

  /** Bytes the run's arrays are projected to take once assembled. */
  get projected(): number {
    return Math.round(this.perSample * this.numItems);
  }

  /**
   * A batch of `samples` samples adding `bytes` (every field kept) is about to be accumulated; `onDisk()` is
   * what the run has written to `dir` so far. Throws an EvalpredError, before the batch is written, when what
   * is still to come does not fit in the free space: the projection, plus one batch (assembling an array holds
   * its final file and the spooled batch being copied at once), less what is written already.
   */
  batch(samples: number, bytes: number, onDisk: () => number): void {
    this.batches++;
    this.sinceCheck += bytes;
    this.perSample = Math.max(this.perSample, bytes / Math.max(1, samples));
    this.widestBatch = Math.max(this.widestBatch, bytes);
    const projected = this.projected;
    if (this.batches > 1 && this.sinceCheck < this.every && projected <= this.checkedProjection) return;
    this.sinceCheck = 0;
    this.checkedProjection = projected;
    const free = this.freeBytes(this.dir);
    this.lastFree = free;
    const written = onDisk();
    const rest = Math.max(0, projected + this.widestBatch - written);
    if (rest <= free) return;
    const from = this.batches === 1 ? 'projected from the first batch' : `projected from the widest of the ${this.batches} batches so far`;
    const sofar = written > 0 ? `; ${written} bytes (${humanBytes(written)}) of them are written, and the rest does not fit in the ${free} bytes (${humanBytes(free)})` : `, but only ${free} bytes (${humanBytes(free)}) are`;
    throw new EvalpredError(
      `the predictions of ${this.numItems} samples need about ${projected} bytes (${humanBytes(projected)}) on disk, ${from}${sofar} free where the cache is written (${this.dir}). ` +
        `The run stops here, before the disk fills; only evalpred's own temporary files are removed. Free some space, choose another ` +
        `folder with --out, evaluate fewer samples (--max-samples) or keep fewer outputs (--preprocess argmax, preprocess_logits_for_metrics).`,
      { file: this.dir },
    );
  }
}
