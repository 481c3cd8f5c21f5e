// Everything the extension host uses from src/core and src/debug, in one module that esbuild.mjs bundles on its
// own as dist/extensionCore.js. The extension reaches it only through core() (./core.ts), on first use: the
// data readers, tokenizer, cache, metric runners and the inline debug session are neither parsed nor run when
// VS Code activates the extension (docs/packaging.md). Runtime imports of src/core elsewhere in src/extension
// are refused by test/unit/layering.test.ts (src/core/errors.ts excepted: tiny, stateless).
export { importDump } from '../core/cache/import';
export { compareCaches } from '../core/compare/compare';
export { CompareViewModel } from '../core/compare/compareModel';
export { removeLeftovers, whyNotReplaceable } from '../core/cache/outputFolder';
export { readCache, tryReadCacheManifest } from '../core/cache/reader';
export { checkedModelDir } from '../core/cache/producerPaths';
export { defaultCacheDir, evaluationKey } from '../core/evaluate';
export { sampleViews } from '../core/inspect/describe';
export { withDefaults } from '../core/loop/settings';
export { metricsFromCache } from '../core/metrics/forEvaluation';
export { MetricRunners } from '../core/metrics/runMetrics';
export { inLaunchTerms, RUN_SETTINGS_FIELDS } from '../core/runtime/launchSettings';
export { tensorStats } from '../core/tensor/stats';
export { Tensor } from '../core/tensor/tensor';
export { loadTokenizer } from '../core/text';
export { makeNonce, predictionViewHtml } from '../core/view/html';
export { PredictionViewModel } from '../core/view/viewModel';
export { LoggingDebugSession } from '@vscode/debugadapter';
export * as debugSession from '../debug/session';
export { demoLaunchConfig, writeDemoWorkspace } from '../demo/workspace';
export { SeriesViewModel, stepLaunch } from '../core/view/seriesModel';
