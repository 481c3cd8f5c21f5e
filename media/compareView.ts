// The compare view's entry point (bundled by esbuild.mjs as dist/media/compareView.js); its modules are in
// media/compareView/.
import { CompareViewApp } from './compareView/app';

new CompareViewApp().start();
