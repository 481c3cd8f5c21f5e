// Reads the model folder's generation_config for LintInput.generation (kept apart so the rules stay pure: no IO in rules/).
import fs from 'node:fs';
import { readGenerationConfig } from '../generate/generationConfig';
import type { LintInput } from './types';

/** The model folder's generation_config for LintInput.generation; undefined when the folder is gone or unreadable. */
export function generationForLints(modelDir: string | undefined): LintInput['generation'] {
  // a missing folder would read as GenerationConfig defaults (max_length 20) and claim generation-capped-20 wrongly
  if (!modelDir || !fs.existsSync(modelDir)) return undefined;
  try {
    const gc = readGenerationConfig(modelDir);
    return { maxLength: gc.maxLength, maxNewTokens: gc.maxNewTokens, numReturnSequences: gc.numReturnSequences };
  } catch {
    return undefined; // a broken config already failed the run that made the cache; lints stay quiet
  }
}
