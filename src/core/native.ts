// The one place that loads our native dependencies, onnxruntime-node (its binding is a .node file plus the
// ONNX Runtime shared library) and esbuild (a per-platform executable). Both are required on first use,
// never at module load: the extension host activates without them (docs/packaging.md), and a .vsix built
// for another platform fails with this message when a model or TS metric is run instead of failing to load.
import type * as OrtModule from 'onnxruntime-node';
import type * as EsbuildModule from 'esbuild';
import { EvalpredError, messageOf } from './errors';

let ort: typeof OrtModule | undefined;
let esbuild: typeof EsbuildModule | undefined;

function platformError(what: string, e: unknown): EvalpredError {
  const target = `${process.platform}-${process.arch}`;
  return new EvalpredError(
    `${what} could not be loaded on ${target}: ${messageOf(e)}. ` +
      `Install the evalpred build for ${target} (the Marketplace picks it; for a .vsix use evalpred-${target}.vsix), ` +
      `or run \`npm ci\` again in a source checkout.`,
    {},
    { cause: e },
  );
}

/** onnxruntime-node, loaded on the first model run. */
export function onnxRuntime(): typeof OrtModule {
  if (!ort) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      ort = require('onnxruntime-node') as typeof OrtModule;
    } catch (e) {
      throw platformError('ONNX Runtime (onnxruntime-node)', e);
    }
  }
  return ort;
}

/** esbuild's JS API, loaded on the first bundle of a .ts/.js metric file. Its binary starts on first build. */
export function esbuildApi(): typeof EsbuildModule {
  if (!esbuild) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      esbuild = require('esbuild') as typeof EsbuildModule;
    } catch (e) {
      throw platformError('esbuild', e);
    }
  }
  return esbuild;
}
