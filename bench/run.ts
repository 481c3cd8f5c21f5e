// `npm run bench`: every benchmark, each printing its side-by-side ratios. `npm run bench -- loop` runs one.
import { main as loop } from './loopThroughput';
import { main as metrics } from './metricsRerun';
import { main as debugPaging } from './debugPaging';
import { main as webview } from './webviewScroll';
import { main as generation } from './generation';
import { main as series } from './seriesRerun';
import { main as activation } from './activation';
import { main as viewQuery } from './viewQuery';
import { main as lineDebug } from './lineDebug';
import { main as importMemory } from './importMemory';
import { main as consoleSlices } from './consoleSlices';
import { main as pythonDebug } from './pythonDebug';
import { main as bertBase } from './bertBase';
import { main as t5Small } from './t5Small';
import { main as streamingLogits } from './streamingLogits';
import { main as features } from './featuresCache';

const all: Record<string, () => Promise<void>> = { loop, metrics, debugPaging, webview, generation, series, activation, viewQuery, lineDebug, importMemory, consoleSlices, pythonDebug, bertBase, t5Small, streamingLogits, features };

(async () => {
  const pick = process.argv.slice(2);
  for (const [name, fn] of Object.entries(all)) if (!pick.length || pick.includes(name)) await fn();
})().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
