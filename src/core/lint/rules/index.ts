// Every lint rule, in the order their findings are listed (docs/trainer-semantics.md#pitfalls has one row per lint id).
import type { LintRule } from '../types';
import { attributeTypo } from './attributeTypo';
import { causalLmNoShift } from './causalLmNoShift';
import { decodeMinus100 } from './decodeMinus100';
import { generateIncludesPrompt } from './generateIncludesPrompt';
import { generationCapped20 } from './generationCapped20';
import { generationWidth } from './generationWidth';
import { largeLogits } from './largeLogits';
import { logitsNotProbabilities } from './logitsNotProbabilities';
import { lossesAreBatchMeans } from './lossesAreBatchMeans';
import { noLabels } from './noLabels';
import { nonFinite } from './nonFinite';
import { oneClass } from './oneClass';
import { paddedFloatPredictions } from './paddedFloatPredictions';
import { perFloatPrediction } from './perFloatPrediction';
import { preprocessUnderGenerate } from './preprocessUnderGenerate';
import { rowsDropped } from './rowsDropped';
import { shapeMismatch } from './shapeMismatch';
import { tupleLabels } from './tupleLabels';
import { tuplePredictions } from './tuplePredictions';
import { twoWayUnpack } from './twoWayUnpack';

export const LINT_RULES: readonly LintRule[] = [
  decodeMinus100,
  tuplePredictions,
  largeLogits,
  noLabels,
  twoWayUnpack,
  shapeMismatch,
  generationWidth,
  generateIncludesPrompt,
  preprocessUnderGenerate,
  generationCapped20,
  causalLmNoShift,
  tupleLabels,
  perFloatPrediction(nonFinite, paddedFloatPredictions, logitsNotProbabilities),
  oneClass,
  attributeTypo,
  lossesAreBatchMeans,
  rowsDropped,
];

export { decodeMinus100, tuplePredictions, largeLogits, noLabels, twoWayUnpack, shapeMismatch, generationWidth, generateIncludesPrompt, preprocessUnderGenerate };
export { generationCapped20, causalLmNoShift, tupleLabels, nonFinite, paddedFloatPredictions, logitsNotProbabilities, oneClass, attributeTypo, lossesAreBatchMeans, rowsDropped };
