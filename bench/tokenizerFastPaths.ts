// The tokenizer library's own methods against the same library with our fast paths (src/core/text/libraryFastPaths.ts,
// docs/architecture.md#tokenization-speed), side by side on the same sentences: two instances built from one
// tokenizer.json, timed in interleaved rounds. Used by the loop and SST-2 benches.
import * as library from '@huggingface/tokenizers';
import { installLibraryFastPaths } from '../src/core/text/libraryFastPaths';
import { median, timeIt } from './util';

type Encoder = { encode_text(text: string): string[] | null };

/** Median ms to tokenize `sentences` (the library's encode_text: normaliser, pre-tokenizer, model) without and with the fast paths. */
export async function timeFastPaths(tokenizerJson: Record<string, unknown>, tokenizerConfig: Record<string, unknown>, sentences: string[], rounds = 5): Promise<{ libraryMs: number; fastMs: number }> {
  const plain = new library.Tokenizer(tokenizerJson, tokenizerConfig) as unknown as Encoder;
  const fast = new library.Tokenizer(tokenizerJson, tokenizerConfig);
  installLibraryFastPaths(fast as unknown as { normalizer: unknown; model: unknown }, library);
  const time = (t: Encoder) => timeIt(() => sentences.forEach((s) => t.encode_text(s)));
  await time(plain); // warm-up: both run the library's code, which the fast paths call on their slow path
  await time(fast as unknown as Encoder);
  const libraryT: number[] = [], fastT: number[] = [];
  for (let r = 0; r < rounds; r++) {
    libraryT.push(await time(plain));
    fastT.push(await time(fast as unknown as Encoder));
  }
  return { libraryMs: median(libraryT), fastMs: median(fastT) };
}
