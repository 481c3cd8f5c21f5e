// Runs the prediction view in a real headless Chromium without VS Code and without a server: the page is
// the panel's own HTML (same CSP) loaded from a file:// URL, `acquireVsCodeApi` is a stub whose postMessage
// calls into Node, where the real PredictionViewModel answers; replies arrive as window messages, exactly
// as a webview receives them. ArrayBuffers cross as base64 (Playwright serialises JSON-like values).
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { packageRoot } from '../../src/core/paths';
import { predictionViewHtml } from '../../src/core/view/html';
import { PredictionViewModel } from '../../src/core/view/viewModel';
import type { ToWebview } from '../../src/shared/protocol';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];


export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** Bundle media/<view>.ts the way esbuild.mjs does and write the page beside it. Returns the page's file URL. */
export async function buildViewPage(dir: string, view: 'predictionView' | 'compareView' = 'predictionView'): Promise<string> {
  const root = packageRoot();
  await esbuild.build({
    entryPoints: [path.join(root, 'media', `${view}.ts`)],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    outfile: path.join(dir, `${view}.js`),
    logLevel: 'warning',
  });
  // The compare view's stylesheet imports the prediction view's.
  for (const css of ['predictionView.css', `${view}.css`]) fs.copyFileSync(path.join(root, 'media', css), path.join(dir, css));
  const html = predictionViewHtml({ scriptUri: `${view}.js`, styleUri: `${view}.css`, cspSource: 'file:', nonce: 'testnonce123' });
  const page = view === 'predictionView' ? 'index.html' : `${view}.html`;
  fs.writeFileSync(path.join(dir, page), html);
  return 'file://' + path.join(dir, page);
}

function encode(v: unknown): unknown {
  if (v instanceof ArrayBuffer) return { __arrayBuffer: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return v.map(encode);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
  return v;
}

export interface ViewSession<M = PredictionViewModel> {
  page: Page;
  /** Messages the page sent, in order. */
  sent: unknown[];
  /** The state the page last stored with setState. */
  state(): Promise<unknown>;
  model: M;
  close(): Promise<void>;
}

/** Open a view on `makeModel`'s host model in a new page; waits until `ready` (default: the first rows) is shown. */
export async function openView<M extends { receive(m: unknown): void } = PredictionViewModel, Out = ToWebview>(
  browser: Browser,
  pageUrl: string,
  makeModel: (post: (m: Out) => void) => M,
  opts: { state?: unknown; width?: number; height?: number; ready?: string } = {},
): Promise<ViewSession<M>> {
  const page = await browser.newPage({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  const sent: unknown[] = [];
  let chain = Promise.resolve();
  const model = makeModel((m) => {
    const wire = encode(m);
    // Keep replies in order, as a webview's message queue does.
    chain = chain
      .then(() =>
        page.evaluate((msg) => {
          const decode = (v: unknown): unknown => {
            if (v && typeof v === 'object' && '__arrayBuffer' in (v as object)) {
              const s = atob((v as { __arrayBuffer: string }).__arrayBuffer);
              const b = new Uint8Array(s.length);
              for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
              return b.buffer;
            }
            if (Array.isArray(v)) return v.map(decode);
            if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
            return v;
          };
          window.postMessage(decode(msg), '*');
        }, wire as never),
      )
      .catch(() => {});
  });
  await page.exposeFunction('__evalpredToHost', (m: unknown) => {
    sent.push(m);
    model.receive(m);
  });
  await page.addInitScript((initial) => {
    const w = window as unknown as { __evalpredState: unknown; acquireVsCodeApi: () => unknown; __evalpredToHost: (m: unknown) => void };
    w.__evalpredState = initial;
    w.acquireVsCodeApi = () => ({
      postMessage: (m: unknown) => w.__evalpredToHost(m),
      getState: () => w.__evalpredState,
      setState: (s: unknown) => {
        w.__evalpredState = s;
      },
    });
  }, opts.state ?? null);
  await page.goto(pageUrl);
  await page.waitForSelector(opts.ready ?? '.row:not(.loading) .c1', { timeout: 10_000 }).catch((e) => {
    throw new Error(`the view showed nothing (${opts.ready ?? 'rows'}): ${e}\npage errors: ${errors.join('\n')}`);
  });
  if (errors.length) throw new Error(`page errors: ${errors.join('\n')}`);
  return {
    page,
    sent,
    model,
    state: () => page.evaluate(() => (window as unknown as { __evalpredState: unknown }).__evalpredState),
    close: () => page.close(),
  };
}

/** The rows currently in the DOM and shown, top to bottom. */
export async function visibleRows(page: Page): Promise<{ pos: number; index: string; text: string; prediction: string; label: string; correct: string; confidence: string; selected: boolean }[]> {
  return page.evaluate(() => {
    const vp = document.querySelector('.viewport')!.getBoundingClientRect();
    return Array.from(document.querySelectorAll<HTMLElement>('.row'))
      // What is on screen, not what the DOM says: a [hidden] row that CSS still displays counts as shown.
      .filter((r) => getComputedStyle(r).display !== 'none')
      .map((r) => ({ r, box: r.getBoundingClientRect() }))
      .filter(({ box }) => box.bottom > vp.top + 1 && box.top < vp.bottom - 1)
      .sort((a, b) => a.box.top - b.box.top)
      .map(({ r }) => {
        const c = Array.from(r.children).map((x) => x.textContent ?? '');
        return {
          pos: Number(r.getAttribute('aria-rowindex')) - 1,
          index: c[0],
          text: c[1],
          prediction: c[2],
          label: c[3],
          correct: c[4],
          confidence: c[5],
          selected: r.classList.contains('selected'),
        };
      });
  });
}

/** Wait until every shown row is loaded (no placeholders). */
export async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() => document.querySelectorAll('.row.loading:not([hidden])').length === 0 && !/loading/.test(document.querySelector('.count')?.textContent ?? ''), undefined, { timeout: 10_000 });
}

export function artifactsDir(): string {
  const d = path.join(packageRoot(), 'test-artifacts');
  fs.mkdirSync(d, { recursive: true });
  return d;
}

export { tempDir } from '../helpers/tempDir';

/** Bundle the training-series view (media/seriesView/) as esbuild.mjs does, with its page under the same CSP. */
export async function buildSeriesPage(dir: string): Promise<string> {
  const root = packageRoot();
  await esbuild.build({
    entryPoints: [path.join(root, 'media', 'seriesView', 'main.ts')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    outfile: path.join(dir, 'seriesView.js'),
    logLevel: 'warning',
  });
  fs.copyFileSync(path.join(root, 'media', 'seriesView', 'seriesView.css'), path.join(dir, 'seriesView.css'));
  const html = predictionViewHtml({ scriptUri: 'seriesView.js', styleUri: 'seriesView.css', cspSource: 'file:', nonce: 'testnonce456', title: 'Training series' });
  fs.writeFileSync(path.join(dir, 'series.html'), html);
  return 'file://' + path.join(dir, 'series.html');
}
