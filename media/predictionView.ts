// The prediction view's entry point (bundled by esbuild.mjs as dist/media/predictionView.js): the view is
// built in media/predictionView/, one module per part (docs/architecture.md, "The extension and the webview").
import { PredictionViewApp } from './predictionView/app';

new PredictionViewApp().start();
