// Which generative loop a model folder needs, if any: an optimum seq2seq export (encoder_model.onnx + decoder)
// or a decoder-only LM (architectures[0] …ForCausalLM / …LMHeadModel). Checked before the classification loop.
import fs from 'node:fs';
import { ModelConfig } from '../model/config';
import type { GenerativeTask } from '../model/heads';
import { CAUSAL_LM_ARCHITECTURES, isGenerativeTask } from '../tasks';
import { findSeq2SeqFiles } from './seq2seqModel';

const CAUSAL = CAUSAL_LM_ARCHITECTURES;

export function generativeTaskOf(modelDirOrFile: string, config: ModelConfig, override?: string): GenerativeTask | null {
  if (isGenerativeTask(override)) return override;
  if (fs.existsSync(modelDirOrFile) && fs.statSync(modelDirOrFile).isDirectory() && findSeq2SeqFiles(modelDirOrFile)) return 'seq2seq-lm';
  const arch = config.architectures[0];
  if (arch && CAUSAL.some((r) => r.test(arch))) return 'causal-lm';
  return null;
}
