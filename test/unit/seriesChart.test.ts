// The training-series chart (media/seriesView/chart.ts): geometry worked out by hand on a 560×240 chart
// (plot area x 56..544, y 28..206), missing points, failed and flagged steps, and the SVG text it becomes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chartModel, chartSvg, metricsOf, niceTicks, yDomainOf } from '../../media/seriesView/chart';
import type { SeriesStepView } from '../../src/shared/seriesProtocol';

function step(x: number, logged: Record<string, number> | null, recomputed: Record<string, number> | null, more: Partial<SeriesStepView> = {}): SeriesStepView {
  return { dir: `step-${x}`, x, label: `step ${x}`, epoch: x / 100, numSamples: 40, logged, recomputed, error: null, errorAt: null, flags: [], ...more };
}

/** The pieces of the SVG text of one group (logged or recomputed). */
function group(svg: string, cls: string): string {
  const m = new RegExp(`<g class="series ${cls}">(.*?)</g>`).exec(svg);
  assert.ok(m, `no ${cls} group`);
  return m[1];
}
const paths = (g: string) => [...g.matchAll(/<path class="line" d="([^"]*)"/g)].map((m) => m[1]);
const r1 = (v: number) => Math.round(v * 10) / 10;
const values = (g: string) => [...g.matchAll(/data-dir="([^"]*)" data-value="([^"]*)"/g)].map((m) => [m[1], Number(m[2])]);

test('nice ticks: steps of 1, 2 or 5 times a power of ten, inside the range', () => {
  // (1 - 0) / 5 = 0.2 -> step 0.2
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  // 0.56 / 5 = 0.112 -> step 0.1; 0.9 is past 0.87
  assert.deepEqual(niceTicks(0.31, 0.87, 5), [0.4, 0.5, 0.6, 0.7, 0.8]);
  // 9500 / 6 = 1583 -> step 2000
  assert.deepEqual(niceTicks(500, 10000, 6), [2000, 4000, 6000, 8000, 10000]);
  assert.deepEqual(niceTicks(3, 3), [3]);
  assert.deepEqual(niceTicks(NaN, 1), []);
});

test('the y range widens to round numbers, and a flat curve gets room around it', () => {
  assert.deepEqual(yDomainOf([0.31, 0.87]), [0.3, 0.9]);
  // 0.5 ± 10% = [0.45, 0.55], step 0.02 -> [0.44, 0.56]
  assert.deepEqual(yDomainOf([0.5, 0.5]), [0.44, 0.56]);
  assert.deepEqual(yDomainOf([0]), [-1, 1]);
  assert.deepEqual(yDomainOf([]), [0, 1]);
});

test('metrics to chart: logged keys first, then keys only the rerun has; no speed fields', () => {
  const steps = [step(100, { eval_f1: 0.1, eval_runtime: 3 }, { eval_f1: 0.2, eval_accuracy: 0.5, eval_samples_per_second: 9 })];
  assert.deepEqual(metricsOf(steps), ['eval_f1', 'eval_accuracy']);
});

test('points sit where the values put them; a step without a value breaks the line', () => {
  // values 0.4..0.8 -> y domain [0.4, 0.8]: y(0.4) = 206, y(0.8) = 28, y(0.6) = 117, y(0.5) = 161.5; x 100/200/300 -> 56/300/544
  const steps = [step(300, { m: 0.6 }, { m: 0.8 }), step(100, { m: 0.4 }, { m: 0.5 }), step(200, { m: 0.5 }, { other: 1 })];
  const c = chartModel(steps, 'm');
  assert.deepEqual(c.yDomain, [0.4, 0.8]);
  assert.deepEqual(c.logged.map((run) => run.map((p) => [p.dir, r1(p.px), r1(p.py)])), [[['step-100', 56, 206], ['step-200', 300, 161.5], ['step-300', 544, 117]]]);
  assert.deepEqual(c.recomputed.map((run) => run.map((p) => [p.dir, r1(p.px), r1(p.py)])), [[['step-100', 56, 161.5]], [['step-300', 544, 28]]]);
  assert.deepEqual(c.xTicks.map((t) => [t.label, t.at]), [['100', 56], ['200', 300], ['300', 544]]);
  assert.deepEqual(c.yTicks.map((t) => t.label), ['0.4', '0.5', '0.6', '0.7', '0.8']);
  // click zones reach half-way to the neighbours (and 8 px past the plot at the ends)
  assert.deepEqual(c.columns.map((k) => [k.dir, k.from, k.to]), [['step-100', 48, 178], ['step-200', 178, 422], ['step-300', 422, 552]]);
  assert.match(c.columns[2].tooltip, /^step 300 · logged 0\.6 · recomputed 0\.8: click/);

  const svg = chartSvg(c);
  assert.deepEqual(paths(group(svg, 'logged')), ['M56 206 L300 161.5 L544 117']);
  assert.deepEqual(paths(group(svg, 'recomputed')), ['M56 161.5', 'M544 28']);
  assert.deepEqual(values(group(svg, 'recomputed')), [['step-100', 0.5], ['step-300', 0.8]]);
  assert.equal([...svg.matchAll(/<rect class="hit"/g)].length, 3);
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="560" height="240"'));
  assert.ok(svg.endsWith('</svg>'));
});

test('a failed step has no recomputed point but an error mark; a flagged step (another dataset?) a flag', () => {
  const steps = [
    step(100, { m: 0.4 }, { m: 0.5 }),
    step(200, { m: 0.5 }, { m: 0.6 }, { flags: ['30 samples (step 100 had 40): another dataset?'] }),
    step(300, { m: 0.6 }, null, { error: 'ValueError: boom <at> line 6', errorAt: { file: '/w/picky.py', line: 6 } }),
  ];
  const c = chartModel(steps, 'm');
  assert.deepEqual(c.recomputed.map((r) => r.map((p) => p.dir)), [['step-100', 'step-200']]);
  assert.deepEqual(c.errors.map((e) => [e.dir, e.px]), [['step-300', 544]]);
  assert.deepEqual(c.flags.map((f) => [f.dir, f.px]), [['step-200', 300]]);
  assert.match(c.columns[2].tooltip, /recomputed failed/);
  const svg = chartSvg(c);
  assert.match(svg, /<g class="error" data-dir="step-300"><title>step 300: ValueError: boom &lt;at&gt; line 6<\/title>/);
  assert.match(svg, /<g class="flag" data-dir="step-200"><title>step 200: 30 samples \(step 100 had 40\): another dataset\?<\/title><path d="M295 207 L305 207 L300 198 Z"\/>/);
});

test('one step sits in the middle; many steps get round x ticks instead of one per step', () => {
  const one = chartModel([step(500, { m: 1 }, { m: 2 })], 'm');
  assert.equal(one.logged[0][0].px, 300);
  assert.deepEqual(one.xTicks.map((t) => [t.label, t.at]), [['500', 300]]);
  const many = chartModel(Array.from({ length: 20 }, (_, i) => step(500 * (i + 1), { m: i }, { m: i + 1 })), 'm');
  assert.deepEqual(many.xTicks.map((t) => t.label), ['2000', '4000', '6000', '8000', '10000']);
  assert.equal(many.logged[0].length, 20);
});

test('text from the series is escaped in the SVG', () => {
  const evil = 'eval_<img src=x onerror=alert(1)>&"';
  const svg = chartSvg(chartModel([step(1, { [evil]: 1 }, null, { dir: 'step-"1"' })], evil));
  assert.ok(!svg.includes('<img'), svg);
  assert.match(svg, /<text class="title" x="56" y="16">eval_&lt;img src=x onerror=alert\(1\)&gt;&amp;&quot;<\/text>/);
  assert.match(svg, /data-dir="step-&quot;1&quot;"/);
});
