// Sequence classification's input side: the rows' token features come from the tokenized-features cache when
// the tokenizer files, dataset bytes and text settings match (docs/cache-format.md#tokenized-features), else
// from tokenization ahead of inference (src/core/textFeatures/feeder.ts), and are stored for the next run.
// Each batch is then padded from them exactly as DataCollatorWithPadding pads (collateChunk), and its labels
// built as prepareBatch builds them: the batches are prepareBatch's, byte for byte (test/unit/textFeatures.test.ts).
import type { Tensor } from '../tensor/tensor';
import type { FeaturesCacheTarget, TextSettings } from '../textFeatures/featuresKey';
import { FeaturesLookup, OpenedFeatures, lookUpFeatures, storeFeatures } from '../textFeatures/rowFeatures';
import { FEEDER_THREAD_MIN_ROWS, FeedSource, FeederThread, cachedFeed, chunkRowsFor, tokenizingFeed } from '../textFeatures/feeder';
import { collateChunk } from '../textFeatures/tokenFeatures';
import { BatchContext, PreparedBatch, rowText, sequenceLabelsOf } from './batches';

export interface SequenceFeedOptions {
  ctx: BatchContext;
  numRows: number;
  batchSize: number;
  /** Where the features cache lives and the hash of its inputs (LoopHooks.featuresCache, asked at the first
   *  batch: it is known only once the run goes ahead); none: no cache. */
  cache?: () => FeaturesCacheTarget | undefined;
  log(line: string): void;
}

export class SequenceFeed {
  private feed: Promise<FeedSource> | null = null;
  private lookup: FeaturesLookup | null = null;
  private opened: OpenedFeatures | null = null;
  /** Started at construction, before the run is decided, for a run long enough to tokenize in a thread. */
  private readonly thread: FeederThread | null;

  constructor(private readonly o: SequenceFeedOptions) {
    this.thread = o.numRows >= FEEDER_THREAD_MIN_ROWS ? new FeederThread(o.ctx.tok.dir) : null;
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
    const text: TextSettings = {
      task: 'sequence-classification',
      text: ctx.plan.template ? undefined : ctx.plan.text,
      pair: ctx.plan.pair,
      template: ctx.plan.template,
      maxLength: ctx.maxLength,
      truncation: 'longest_first',
    };
    this.lookup = { cache: this.o.cache, text, numRows, log: this.o.log };
    this.opened = lookUpFeatures(this.lookup, ['inputs'], false);
    if (this.opened.hit) {
      // Stopped, not waited for: its exit took 3-11 ms of the first batch (issue 12); close() waits for it.
      this.thread?.close().catch(() => {});
      return cachedFeed(this.opened.hit, 'inputs');
    }
    // Every row's text up front (as datasets.map tokenizes the whole split before Trainer's loop): a bad row
    // is reported before the first batch runs.
    const texts: string[] = new Array(numRows);
    const pairs: string[] | null = ctx.plan.pair ? new Array(numRows) : null;
    for (let i = 0; i < numRows; i++) {
      const [t, p] = rowText(ctx, i);
      texts[i] = t;
      if (pairs) pairs[i] = p!;
    }
    return tokenizingFeed({ tokenizerDir: ctx.tok.dir, texts, pairs, maxLength: ctx.maxLength, chunkRows: chunkRowsFor(this.o.batchSize) }, ctx.tok, { thread: this.thread ?? false });
  }

  async close(): Promise<void> {
    await this.thread?.close(); // started, never used (a cache hit, or a run called off before its first batch)
    if (!this.feed) return;
    const feed = await this.feed.catch(() => null);
    if (!feed) return;
    try {
      const all = feed.complete();
      if (all && this.lookup && this.opened && !this.opened.hit) storeFeatures(this.lookup, this.opened, { rows: this.o.numRows, tables: { inputs: all } });
    } finally {
      await feed.close();
    }
  }
}
