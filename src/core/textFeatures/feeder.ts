// Tokenization ahead of inference (issue 12): while onnxruntime runs batch k in the loop thread, a feeder
// thread tokenizes the rows of later batches and sends them as flat arrays through a bounded queue (it runs
// at most AHEAD_CHUNKS chunks ahead of the batch being run). Batches, their order and padding are Trainer's:
// the rows are tokenized exactly as before, only earlier and elsewhere; padding happens per batch in
// collateChunk. Features from the cache (featuresFile.ts) skip the thread altogether.
// Small runs tokenize in the loop thread, chunk by chunk as batches need them: a thread would cost more to start.
import { Worker } from 'node:worker_threads';
import { EvalpredError } from '../errors';
import { distFile } from '../paths';
import type { LoadedTokenizer } from '../text';
import type { CachedFeatures } from './featuresFile';
import { FeatureChunk, chunkRows, joinChunks, packEncodings } from './tokenFeatures';
import { FeederJob, FromFeeder, ToFeeder, tokenizeRows } from './feederProtocol';

/** Below this many rows the loop thread tokenizes inline. */
export const FEEDER_THREAD_MIN_ROWS = 2048;
const CHUNK_TARGET_ROWS = 256;
const AHEAD_CHUNKS = 16;

export interface FeedSource {
  /** The chunk holding rows [start, end) (batch-aligned: a batch never spans two chunks). */
  chunkFor(start: number, end: number): Promise<FeatureChunk>;
  /** Every row's features once all were produced (for the features cache), else null. */
  complete(): FeatureChunk | null;
  close(): Promise<void>;
}

const threads = { started: 0, live: 0 };
/** A feeder thread (dist/feederWorker.js), counted until it exits. */
function startFeederWorker(): Worker {
  const w = new Worker(distFile('feederWorker.js'));
  threads.started++;
  threads.live++;
  w.once('exit', () => threads.live--);
  return w;
}

/** Feeder threads started so far, and those not yet exited (the tests check that a run starts and stops them as it should). */
export function feederThreadCounts(): { started: number; live: number } {
  return { ...threads };
}

/** Rows per chunk: a whole number of batches near CHUNK_TARGET_ROWS, so a batch lies in one chunk. */
export function chunkRowsFor(batchSize: number): number {
  return batchSize * Math.max(1, Math.round(CHUNK_TARGET_ROWS / batchSize));
}

/**
 * Features from the cache, read from the file `rowsPerRead` rows at a time (CachedFeatures.reader), nothing to
 * produce, nothing to store (complete() is null); the file is closed with the feed.
 */
export function cachedFeed(features: CachedFeatures, table: string, rowsPerRead: number): FeedSource {
  const read = features.reader(table, rowsPerRead);
  return {
    chunkFor: async (start, end) => read(start, end),
    complete: () => null,
    close: async () => features.close(),
  };
}

/**
 * A feeder thread started before its job is known (while the worker waits for the cache key, src/core/evaluate.ts):
 * it loads its bundle and the tokenizer meanwhile. Hand it to tokenizingFeed, or close it when the features
 * come from the cache.
 */
export class FeederThread {
  private readonly worker: Worker;
  private used = false;
  /** What happened to the thread before a feed took it (the feed listens from then on). */
  private early: { error?: Error; exited: boolean } = { exited: false };
  constructor(tokenizerDir: string) {
    this.worker = startFeederWorker();
    this.worker.on('error', (e) => (this.early.error ??= e));
    this.worker.on('exit', () => (this.early.exited = true));
    this.worker.postMessage({ type: 'warm', tokenizerDir } satisfies ToFeeder);
  }
  take(): { worker: Worker; early: { error?: Error; exited: boolean } } {
    if (this.used) throw new Error('FeederThread: already taken');
    this.used = true;
    return { worker: this.worker, early: this.early };
  }
  private closing: Promise<void> | null = null;
  /** Stop the thread unless a feed took it; the same promise on every call (a hit stops it early, the feed's close waits). */
  close(): Promise<void> {
    if (this.used) return Promise.resolve();
    return (this.closing ??= this.worker.terminate().then(() => {}));
  }
}

/**
 * Tokenize `texts` (and `pairs`) with `tok`, in this thread (inline) or in a feeder thread (`thread`: true for
 * a new one, or one started ahead; default: a thread from FEEDER_THREAD_MIN_ROWS rows on).
 */
export function tokenizingFeed(job: FeederJob, tok: LoadedTokenizer, opts: { thread?: boolean | FeederThread } = {}): FeedSource {
  const t = opts.thread ?? job.texts.length >= FEEDER_THREAD_MIN_ROWS;
  if (t === false) return new InlineFeed(job, tok);
  if (t === true) return new ThreadFeed(job, tok, startFeederWorker());
  const { worker, early } = t.take();
  return new ThreadFeed(job, tok, worker, early);
}

abstract class ChunkedFeed implements FeedSource {
  protected readonly chunks: FeatureChunk[] = [];
  constructor(
    protected readonly job: FeederJob,
    protected readonly tok: LoadedTokenizer,
  ) {}
  protected find(start: number): FeatureChunk | undefined {
    const k = Math.floor(start / this.job.chunkRows);
    const c = this.chunks[k];
    return c && c.firstRow <= start ? c : undefined;
  }
  /** Chunk k tokenized in this thread (kept: a later call, or the feeder's own copy, finds it). */
  protected tokenizeHere(k: number): FeatureChunk {
    const first = k * this.job.chunkRows;
    const last = Math.min(this.job.texts.length, first + this.job.chunkRows);
    return (this.chunks[k] = packEncodings(first, tokenizeRows(this.tok, this.job, first, last)));
  }
  abstract chunkFor(start: number, end: number): Promise<FeatureChunk>;
  complete(): FeatureChunk | null {
    const rows = this.chunks.reduce((n, c) => n + (c ? chunkRows(c) : 0), 0);
    return rows === this.job.texts.length && rows > 0 ? joinChunks(this.chunks) : null;
  }
  async close(): Promise<void> {}
}

class InlineFeed extends ChunkedFeed {
  async chunkFor(start: number): Promise<FeatureChunk> {
    const k = Math.floor(start / this.job.chunkRows);
    return this.chunks[k] ?? this.tokenizeHere(k);
  }
}

class ThreadFeed extends ChunkedFeed {
  private readonly worker: Worker;
  private failure: { row: number; error: Error } | null = null;
  /** Batches waiting for their chunk (several, with batches in flight: driver.ts). */
  private waiting: (() => void)[] = [];
  private exited = false;
  /** The chunk the feeder was last told the loop is at, and how many chunks came in. */
  private credited = 0;
  private received = 0;
  private readonly totalChunks = Math.ceil(this.job.texts.length / this.job.chunkRows);

  constructor(job: FeederJob, tok: LoadedTokenizer, worker: Worker, early: { error?: Error; exited: boolean } = { exited: false }) {
    super(job, tok);
    this.worker = worker;
    if (early.error) this.failure = { row: 0, error: early.error };
    this.exited = early.exited;
    this.worker.on('message', (m: FromFeeder) => {
      if (m.type === 'chunk') {
        // The first chunk may have been tokenized here already (chunkFor): the feeder's copy is the same rows.
        this.chunks[Math.floor(m.chunk.firstRow / job.chunkRows)] ??= m.chunk;
        this.received++;
      } else this.failure = { row: m.row, error: m.userError ? new EvalpredError(m.message) : new Error(m.message) };
      this.wake();
    });
    this.worker.on('error', (e) => {
      this.failure ??= { row: 0, error: e };
      this.wake();
    });
    this.worker.on('exit', () => {
      this.exited = true;
      this.wake();
    });
    this.send({ type: 'start', job, aheadChunks: AHEAD_CHUNKS });
  }

  private send(m: ToFeeder): void {
    this.worker.postMessage(m);
  }

  private wake(): void {
    this.waiting.splice(0).forEach((w) => w());
  }

  async chunkFor(start: number): Promise<FeatureChunk> {
    // Credit for the feeder, which may run AHEAD_CHUNKS chunks past the one being consumed: sent every half window,
    // not per batch, and not once every chunk is in. A postMessage stalls for milliseconds when the feeder thread
    // is descheduled at the wrong moment (2 cores, onnxruntime's threads and the feeder): one per batch cost
    // ~250 ms of a 20,000-row run (docs/architecture.md#tokenization-ahead).
    const k = Math.floor(start / this.job.chunkRows);
    if (k >= this.credited + AHEAD_CHUNKS / 2 && this.received < this.totalChunks) {
      this.credited = k;
      this.send({ type: 'consumed', row: k * this.job.chunkRows });
    }
    for (;;) {
      const c = this.find(start);
      if (c) return c;
      // The feeder stops at its first error, after sending every chunk before it: so a failure here is this
      // chunk's, and the batches before it ran, as with per-batch tokenization.
      if (this.failure) throw this.failure.error;
      // The first batch does not wait for the feeder's start (its thread, bundle and tokenizer: ~50-90 ms on 2
      // cores, a tenth of a small run): this thread tokenizes the first chunk, and the feeder has that chunk's
      // batches to get ahead (docs/architecture.md#tokenization-ahead). A bad row in it fails here as it would there.
      if (k === 0) return this.tokenizeHere(0);
      if (this.exited) throw new Error('the tokenization thread stopped before the last batch');
      await new Promise<void>((r) => this.waiting.push(r));
    }
  }

  override async close(): Promise<void> {
    if (!this.exited) await this.worker.terminate();
  }
}

