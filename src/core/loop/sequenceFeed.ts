// Sequence classification's input side: the rows' token features come from the tokenized-features cache when
// the tokenizer files, dataset bytes and text settings match (docs/cache-format.md#tokenized-features), else
// from tokenization ahead of inference (src/core/textFeatures/feeder.ts), and are stored for the next run.
// Each batch is then padded from them exactly as DataCollatorWithPadding pads (collateChunk), and its labels
// built as prepareBatch builds them: the batches are prepareBatch's, byte for byte (test/unit/textFeatures.test.ts).
import type { Tensor } from '../tensor/tensor';
import { readFeatures, writeFeatures } from '../textFeatures/featuresFile';
import { FeaturesCacheTarget, TextSettings, featuresKey } from '../textFeatures/featuresKey';
import { FeedSource, cachedFeed, chunkRowsFor, tokenizingFeed } from '../textFeatures/feeder';
import { collateChunk } from '../textFeatures/tokenFeatures';
import { BatchContext, PreparedBatch, rowText, sequenceLabelsOf } from './batches';

export interface SequenceFeedOptions {
  ctx: BatchContext;
  numRows: number;
  batchSize: number;
  /** Where the features cache lives and the hash of its inputs (LoopHooks.featuresCache); none: no cache. */
  cache?: FeaturesCacheTarget;
  log(line: string): void;
}

export class SequenceFeed {
  private feed: Promise<FeedSource> | null = null;
  private key: string | null = null;
  private fromCache = false;

  constructor(private readonly o: SequenceFeedOptions) {}

  async batch(start: number, end: number): Promise<PreparedBatch & { inputIds: Tensor }> {
    const feed = await (this.feed ??= this.open());
    const chunk = await feed.chunkFor(start, end);
    const { ctx } = this.o;
    const feeds = collateChunk(chunk, start, end, { padTokenId: ctx.tok.padTokenId, padSide: ctx.tok.padSide, names: ctx.inputNames, typeIds: ctx.tok.returnsTokenTypeIds });
    return { feeds, labels: sequenceLabelsOf(ctx, start, end), size: end - start, inputIds: feeds.input_ids };
  }

  private async open(): Promise<FeedSource> {
    const { ctx, numRows, cache } = this.o;
    if (cache) {
      const text: TextSettings = {
        task: 'sequence-classification',
        text: ctx.plan.template ? undefined : ctx.plan.text,
        pair: ctx.plan.pair,
        template: ctx.plan.template,
        maxLength: ctx.maxLength,
        truncation: 'longest_first',
      };
      this.key = featuresKey(cache.inputs, text);
      const cached = readFeatures(cache.dir, this.key, numRows);
      if (cached) {
        this.fromCache = true;
        this.o.log(`reusing the tokenized features of ${numRows} rows from ${cache.dir} (same tokenizer, dataset and text settings)`);
        return cachedFeed(cached);
      }
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
    return tokenizingFeed({ tokenizerDir: ctx.tok.dir, texts, pairs, maxLength: ctx.maxLength, chunkRows: chunkRowsFor(this.o.batchSize) }, ctx.tok);
  }

  async close(): Promise<void> {
    if (!this.feed) return;
    const feed = await this.feed.catch(() => null);
    if (!feed) return;
    try {
      const all = feed.complete();
      if (all && this.key && this.o.cache && !this.fromCache) {
        const why = writeFeatures(this.o.cache.dir, this.key, all);
        if (why) this.o.log(`tokenized features not cached: ${why}`);
      }
    } finally {
      await feed.close();
    }
  }
}
