// Sequence classification's input side: the rows' token features come from the tokenized-features cache when
// the tokenizer files, dataset bytes and text settings match (docs/cache-format.md#tokenized-features), else
// from tokenization ahead of inference (src/core/textFeatures/feeder.ts), and are stored for the next run.
// Each batch is then padded from them exactly as DataCollatorWithPadding pads (collateChunk), and its labels
// built as prepareBatch builds them: the batches are prepareBatch's, byte for byte (test/unit/textFeatures.test.ts).
import type { Tensor } from '../tensor/tensor';
import fs from 'node:fs';
import { featuresFileFor } from '../textFeatures/featuresFile';
import { FeaturesCacheTarget, TextSettings, featuresKey } from '../textFeatures/featuresKey';
import { FeaturesLookup, OpenedFeatures, lookUpFeatures, storeFeatures } from '../textFeatures/rowFeatures';
import { FEEDER_THREAD_MIN_ROWS, FeedSource, FeederThread, cachedFeed, chunkRowsFor, tokenizingFeed } from '../textFeatures/feeder';
import type { FeederJob } from '../textFeatures/feederProtocol';
import { collateChunk } from '../textFeatures/tokenFeatures';
import { BatchContext, ColumnPlan, PreparedBatch, rowText, sequenceLabelsOf } from './batches';

export interface SequenceFeedOptions {
  ctx: BatchContext;
  numRows: number;
  batchSize: number;
  /** Where the features cache lives and the hash of its inputs (LoopHooks.featuresCache, asked at the first
   *  batch: it is known only once the run goes ahead); none: no cache. */
  cache?: () => FeaturesCacheTarget | undefined;
  log(line: string): void;
  /** A feeder thread started before the model opened (encoderFamily.ts), for a run of FEEDER_THREAD_MIN_ROWS rows or more. */
  thread?: FeederThread;
}

/** The text settings that key sequence classification's tokenized features (docs/cache-format.md#tokenized-features). */
export function sequenceTextSettings(plan: ColumnPlan, maxLength: number): TextSettings {
  return {
    task: 'sequence-classification',
    text: plan.template ? undefined : plan.text,
    pair: plan.pair,
    template: plan.template,
    maxLength,
    truncation: 'longest_first',
  };
}

/**
 * Whether the features for `text` are in the features cache, when it is known yet: a file under the key (a damaged
 * one is found out, and tokenized again, when the feed opens).
 */
export function featuresOnDisk(cache: FeaturesCacheTarget | undefined, text: TextSettings): boolean {
  return !!cache && fs.existsSync(featuresFileFor(cache.dir, featuresKey(cache.inputs, text)));
}

export class SequenceFeed {
  private feed: Promise<FeedSource> | null = null;
  private lookup: FeaturesLookup | null = null;
  private opened: OpenedFeatures | null = null;
  /**
   * A run long enough for a thread starts tokenizing at once, before the features cache is known (it is asked only
   * once the run goes ahead): the thread's start and its first chunks overlap the model's load and the host's
   * hashing, when a core is otherwise idle (docs/architecture.md#tokenization-ahead). A cache hit stops it.
   */
  private readonly ahead: FeedSource | null = null;

  constructor(private readonly o: SequenceFeedOptions) {
    if (o.numRows < FEEDER_THREAD_MIN_ROWS) return;
    // Decided already (the host hashed faster than the model opened) and the features are on disk: nothing to
    // tokenize (a damaged file is a miss, and open() tokenizes then).
    if (featuresOnDisk(o.cache?.(), this.text())) {
      o.thread?.close().catch(() => {});
      return;
    }
    const thread = o.thread ?? new FeederThread(o.ctx.tok.dir);
    try {
      this.ahead = tokenizingFeed(this.job(), o.ctx.tok, { thread });
    } catch {
      // A row without text: open() builds the texts again on a miss and reports it there, before the first batch.
      thread.close().catch(() => {});
    }
  }

  async batch(start: number, end: number): Promise<PreparedBatch & { inputIds: Tensor }> {
    const feed = await (this.feed ??= this.open());
    const chunk = await feed.chunkFor(start, end);
    const { ctx } = this.o;
    const feeds = collateChunk(chunk, start, end, { padTokenId: ctx.tok.padTokenId, padSide: ctx.tok.padSide, names: ctx.inputNames, typeIds: ctx.tok.returnsTokenTypeIds });
    return { feeds, labels: sequenceLabelsOf(ctx, start, end), size: end - start, inputIds: feeds.input_ids };
  }

  private async open(): Promise<FeedSource> {
    const { ctx, numRows } = this.o;
    const text = this.text();
    this.lookup = { cache: this.o.cache, text, numRows, log: this.o.log };
    this.opened = lookUpFeatures(this.lookup, ['inputs'], false);
    if (this.opened.hit) {
      // Stopped, not waited for: its exit took 3-11 ms of the first batch (issue 12); close() waits for it.
      this.stopping = this.ahead?.close().catch(() => {}) ?? null;
      return cachedFeed(this.opened.hit, 'inputs', chunkRowsFor(this.o.batchSize));
    }
    return this.ahead ?? tokenizingFeed(this.job(), ctx.tok);
  }

  private stopping: Promise<void> | null = null;

  private text(): TextSettings {
    return sequenceTextSettings(this.o.ctx.plan, this.o.ctx.maxLength);
  }

  /**
   * Every row's text up front (as datasets.map tokenizes the whole split before Trainer's loop): a bad row is
   * reported before the first batch runs.
   */
  private job(): FeederJob {
    const { ctx, numRows } = this.o;
    const texts: string[] = new Array(numRows);
    const pairs: string[] | null = ctx.plan.pair ? new Array(numRows) : null;
    for (let i = 0; i < numRows; i++) {
      const [t, p] = rowText(ctx, i);
      texts[i] = t;
      if (pairs) pairs[i] = p!;
    }
    return { tokenizerDir: ctx.tok.dir, texts, pairs, maxLength: ctx.maxLength, chunkRows: chunkRowsFor(this.o.batchSize) };
  }

  async close(): Promise<void> {
    await this.stopping;
    const feed = this.feed ? await this.feed.catch(() => null) : null;
    try {
      const all = feed?.complete();
      if (all && this.lookup && this.opened && !this.opened.hit) storeFeatures(this.lookup, this.opened, { rows: this.o.numRows, tables: { inputs: all } });
    } finally {
      await feed?.close();
      // Tokenizing ahead for a run that never used it (called off before its first batch, or a bad row's error).
      if (this.ahead && this.ahead !== feed) await this.ahead.close();
    }
  }
}
