// The reliability suite's table runner: each row runs the built CLI (node dist/cli.js) as a user types it, in
// a fresh folder, and asserts the exit code, the one-paragraph message (one line, one prefix, no stack), and
// that nothing in that folder changed except the paths the row allows (file bytes, types and symlink targets
// are hashed before and after). Rows for other parts of the CLI add a file beside this one and call cliTable.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { demoModelFiles } from '../../src/demo';

/** The repository root (the suite runs from out/reliability/, the CLI from dist/). */
export const ROOT = findRoot(__dirname);
export const CLI = path.join(ROOT, 'dist', 'cli.js');

function findRoot(from: string): string {
  for (let d = from; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json')) && fs.existsSync(path.join(d, 'esbuild.mjs'))) return d;
    if (path.dirname(d) === d) throw new Error(`no evalpred checkout above ${from}`);
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `node dist/cli.js ...args` in `cwd`; resolves when it exits (killed after `timeoutMs`). */
export function runCli(args: string[], cwd: string, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** path (relative, '/'-separated) -> type and content hash, for every entry under `root`. */
export function hashTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string, rel: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(p);
      if (st.isSymbolicLink()) out.set(r, `link:${fs.readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.set(r, 'dir');
        walk(p, r);
      } else if (st.isFile()) out.set(r, `file:${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`);
      else out.set(r, `other:${st.mode}`);
    }
  };
  walk(root, '');
  return out;
}

/** Entries that differ between two hashTree snapshots, except those at or under an allowed path. */
export function changedOutside(before: Map<string, string>, afterMap: Map<string, string>, allowed: string[]): string[] {
  // `a` allows a and everything under it; `a*` allows every entry whose path starts with `a`.
  const ok = (r: string) => allowed.some((a) => (a.endsWith('*') ? r.startsWith(a.slice(0, -1)) : r === a || r.startsWith(a + '/')));
  const keys = new Set([...before.keys(), ...afterMap.keys()]);
  return [...keys].filter((k) => !ok(k) && before.get(k) !== afterMap.get(k)).sort();
}

export interface CliCase {
  name: string;
  /** Build the scenario inside `dir` (the row's own folder, also the working directory). */
  setup?: (dir: string, fx: Fixture) => void | Promise<void>;
  /** The arguments after `evalpred`; a function may use the row's folder and the shared fixture. */
  args: string[] | ((dir: string, fx: Fixture) => string[]);
  code: number;
  /** What stderr must say (for errors: the one error paragraph). */
  stderr?: RegExp;
  stdout?: RegExp;
  /** Paths relative to `dir` that may change (the output folder; `name.*` for a prefix); all else must stay byte-identical. */
  mayChange?: string[];
  /** Further checks after the run. */
  check?: (dir: string, r: CliResult, fx: Fixture) => void;
  timeoutMs?: number;
}

/** Shared read-only inputs, made once per process outside every row's folder. */
export interface Fixture {
  root: string;
  /** The demo's model folder (model.onnx, config.json with id2label negative/positive, tokenizer). */
  model: string;
  /** The demo's validation.jsonl (200 rows, columns sentence/label). */
  dataset: string;
  /** A valid cache made by `evalpred run` on model + dataset. */
  cache: string;
}

let fixture: Promise<Fixture> | undefined;
const scratch: string[] = [];
after(() => {
  for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix = 'evalpred-rel-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  scratch.push(d);
  return d;
}

export function sharedFixture(): Promise<Fixture> {
  fixture ??= (async () => {
    const root = tempDir('evalpred-rel-fixture-');
    for (const [rel, body] of demoModelFiles()) {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), body);
    }
    const fx = { root, model: path.join(root, 'model'), dataset: path.join(root, 'validation.jsonl'), cache: path.join(root, 'cache') };
    const r = await runCli(['run', '--model', fx.model, '--dataset', fx.dataset, '--out', fx.cache, '--json'], root);
    if (r.code !== 0) throw new Error(`fixture run failed: ${r.stderr}`);
    return fx;
  })();
  return fixture;
}

/** Copy a folder (files and subfolders) — for rows that alter a copy of the fixture. */
export function copyDir(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
}

/** A pid that is certainly not running: a child that has already exited. */
export function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

/**
 * The message contract for a failing row: the error is one line `evalpred[ cmd]: error: …` with one prefix,
 * and stderr holds no stack trace and no "internal error".
 */
export function assertOneParagraph(r: CliResult): void {
  assert.doesNotMatch(r.stderr, /\n\s+at .+(:\d+:\d+\)?|\(node:)/, `stack trace in stderr:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /internal error/, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => /\berror: /.test(l));
  assert.equal(lines.length, 1, `expected one error line, got:\n${r.stderr}`);
  assert.match(lines[0], /^evalpred( [a-z]+)?: error: \S/, lines[0]);
  assert.doesNotMatch(lines[0], /error: .*\bevalpred [a-z]+: (error: )?/, `repeated prefix: ${lines[0]}`);
  assert.doesNotMatch(r.stderr, /\x1b/, 'raw escape character in stderr');
}

/** Register one test per row under `title`. Rows run two at a time (each in its own folder). */
export function cliTable(title: string, cases: CliCase[]): void {
  describe(title, { concurrency: 2 }, () => {
    for (const c of cases) {
      test(c.name, { timeout: (c.timeoutMs ?? 120_000) + 30_000 }, async () => {
        const fx = await sharedFixture();
        const dir = tempDir();
        await c.setup?.(dir, fx);
        const before = hashTree(dir);
        const args = typeof c.args === 'function' ? c.args(dir, fx) : c.args;
        const r = await runCli(args, dir, c.timeoutMs);
        const shown = `evalpred ${args.join(' ')}\nexit ${r.code}\nstderr:\n${r.stderr}\nstdout:\n${r.stdout.slice(0, 2000)}`;
        assert.equal(r.code, c.code, shown);
        if (c.code !== 0) assertOneParagraph(r);
        else assert.doesNotMatch(r.stderr, /internal error|\n\s+at .+:\d+:\d+/, shown);
        if (c.stderr) assert.match(r.stderr, c.stderr, shown);
        if (c.stdout) assert.match(r.stdout, c.stdout, shown);
        assert.deepEqual(changedOutside(before, hashTree(dir), c.mayChange ?? []), [], `changed outside ${JSON.stringify(c.mayChange ?? [])}\n${shown}`);
        c.check?.(dir, r, fx);
      });
    }
  });
}
