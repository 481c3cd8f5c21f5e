// The extension's one door to src/core (./coreApi.ts), opened on first use. In the packaged extension the
// require below loads dist/extensionCore.js, a bundle of its own (esbuild.mjs maps it), so activation parses
// only the thin dist/extension.js; in test bundles it is bundled inline (docs/packaging.md).
import type * as CoreApi from './coreApi';

let api: typeof CoreApi | undefined;

export function core(): typeof CoreApi {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (api ??= require('./coreApi') as typeof CoreApi);
}

/** Whether core() has been loaded (deactivate() has nothing to close otherwise). */
export function coreLoaded(): boolean {
  return api !== undefined;
}
