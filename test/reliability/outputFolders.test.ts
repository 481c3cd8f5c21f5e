// Output folders (issue 9, "evalpred deletes only what it wrote"): run/import/demo replace only what evalpred
// wrote, refuse everything else before doing any work, clean their own leftovers, and survive racing writers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CLI, CliCase, cliTable, copyDir, deadPid, runCli, sharedFixture, tempDir } from './harness';

const write = (p: string, body: string) => {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, body);
};
const manifestOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
const isCache = (dir: string) => manifestOf(dir).format === 'evalpred-cache/1';

const rows: CliCase[] = [
  {
    name: 'run --out . in a project with its own manifest.json is refused and deletes nothing',
    setup: (d) => {
      write(path.join(d, 'manifest.json'), '{"name": "my-extension", "version": "1.0.0"}');
      write(path.join(d, 'src', 'index.ts'), 'export {};\n');
      write(path.join(d, '.git', 'HEAD'), 'ref: refs/heads/main\n');
      write(path.join(d, 'README.md'), '# mine\n');
    },
    args: (d, fx) => ['run', '--model', fx.model, '--dataset', fx.dataset, '--out', '.'],
    code: 2,
    stderr: /cannot write the prediction cache to \.: its manifest\.json is not an evalpred cache manifest .*no "format" key/,
  },
  {
    name: 'run --out into a folder of files without manifest.json is refused before the model runs',
    setup: (d) => write(path.join(d, 'results', 'notes.txt'), 'mine'),
    args: (d, fx) => ['run', '--model', fx.model, '--dataset', fx.dataset, '--out', 'results'],
    code: 2,
    stderr: /cannot write the prediction cache to results: the folder holds "notes\.txt" but no manifest\.json/,
    check: (d, r) => assert.doesNotMatch(r.stderr, /evaluating/, 'the loop ran before the refusal'),
  },
  {
    name: 'import --out a cache folder holding a user note is refused, naming the note, which is kept',
    setup: (d, fx) => {
      copyDir(fx.cache, path.join(d, 'out'));
      write(path.join(d, 'out', 'notes.txt'), 'why run 3 was worse');
    },
    args: (d, fx) => ['import', fx.cache, '--out', 'out'],
    code: 2,
    stderr: /out: it is an evalpred cache but also holds "notes\.txt", which evalpred did not write and will not delete/,
  },
  {
    name: 'run --refresh into a cache holding a user folder is refused (a subfolder is never deleted)',
    setup: (d, fx) => {
      copyDir(fx.cache, path.join(d, 'out'));
      write(path.join(d, 'out', 'plots', 'a.png'), 'png');
    },
    args: (d, fx) => ['run', '--model', fx.model, '--dataset', fx.dataset, '--out', 'out', '--refresh', '--json'],
    code: 2,
    stderr: /also holds "plots\/"/,
  },
  {
    name: 'a manifest with our format tag listing a file outside the folder does not make the folder ours',
    setup: (d, fx) => {
      copyDir(fx.cache, path.join(d, 'out'));
      write(path.join(d, 'out', 'thesis.tex'), '\\documentclass{article}');
    },
    args: (d, fx) => ['import', fx.cache, '--out', 'out'],
    code: 2,
    stderr: /"thesis\.tex"/,
  },
  {
    name: 'import --out an existing file is refused',
    setup: (d) => write(path.join(d, 'out.txt'), 'mine'),
    args: (d, fx) => ['import', fx.cache, '--out', 'out.txt'],
    code: 2,
    stderr: /cannot write the prediction cache to out\.txt: it exists and is not a folder/,
  },
  {
    name: 'import --out FILE/sub says the file is in the way',
    setup: (d) => write(path.join(d, 'file'), 'x'),
    args: (d, fx) => ['import', fx.cache, '--out', 'file/sub'],
    code: 2,
    stderr: /cannot write the prediction cache to file\/sub: .*file is a file, not a folder/,
  },
  {
    name: 'import --out /proc/x gives a sentence, not an ENOENT stack',
    args: (d, fx) => ['import', fx.cache, '--out', '/proc/evalpred-x'],
    code: 2,
    stderr: /cannot write the prediction cache to \/proc\/evalpred-x: the folder \/proc does not accept new folders/,
  },
  {
    name: 'run --out /proc/x is refused before the model runs',
    args: (d, fx) => ['run', '--model', fx.model, '--dataset', fx.dataset, '--out', '/proc/evalpred-x'],
    code: 2,
    stderr: /cannot write the prediction cache to \/proc\/evalpred-x/,
    check: (d, r) => assert.doesNotMatch(r.stderr, /evaluating/),
  },
  {
    name: 'import --out a symbolic link to a cache is refused (the link and its target stay)',
    setup: (d, fx) => {
      copyDir(fx.cache, path.join(d, 'real'));
      fs.symlinkSync('real', path.join(d, 'link'));
    },
    args: (d, fx) => ['import', fx.cache, '--out', 'link'],
    code: 2,
    stderr: /link: it is a symbolic link/,
  },
  {
    name: 'import --out an empty folder writes the cache there',
    setup: (d) => fs.mkdirSync(path.join(d, 'out')),
    args: (d, fx) => ['import', fx.cache, '--out', 'out'],
    code: 0,
    mayChange: ['out'],
    check: (d) => assert.ok(isCache(path.join(d, 'out'))),
  },
  {
    name: 'import --out an earlier cache replaces it, leaving nothing beside it',
    setup: (d, fx) => copyDir(fx.cache, path.join(d, 'out')),
    args: (d, fx) => ['import', fx.cache, '--out', 'out'],
    code: 0,
    mayChange: ['out'],
    check: (d) => {
      assert.ok(manifestOf(path.join(d, 'out')).imported_from);
      assert.deepEqual(fs.readdirSync(d), ['out']);
    },
  },
  {
    name: 'run --out an earlier (imported) cache replaces it with a run cache',
    setup: async (d, fx) => {
      const r = await runCli(['import', fx.cache, '--out', path.join(d, 'out')], d);
      assert.equal(r.code, 0, r.stderr);
    },
    args: (d, fx) => ['run', '--model', fx.model, '--dataset', fx.dataset, '--out', 'out', '--max-samples', '16', '--json'],
    code: 0,
    stdout: /"eval_accuracy"/,
    mayChange: ['out'],
    check: (d) => {
      assert.equal(manifestOf(path.join(d, 'out')).num_samples, 16);
      assert.deepEqual(fs.readdirSync(d), ['out']);
    },
  },
  {
    name: "a killed writer's .partial-/.old- folders are removed by the next write into that folder",
    setup: (d, fx) => {
      const dead = deadPid();
      copyDir(fx.cache, path.join(d, `out.old-${dead}-0badc0de`));
      fs.mkdirSync(path.join(d, `out.partial-${dead}-12345678`));
      fs.copyFileSync(path.join(fx.cache, 'predictions.npy'), path.join(d, `out.partial-${dead}-12345678`, 'predictions.npy'));
    },
    args: (d, fx) => ['import', fx.cache, '--out', 'out'],
    code: 0,
    mayChange: ['out', 'out.*'],
    check: (d) => assert.deepEqual(fs.readdirSync(d), ['out']),
  },
  {
    name: 'a .partial- folder that holds a user file is not ours and stays',
    setup: (d) => write(path.join(d, `out.partial-${deadPid()}-abcdef01`, 'draft.docx'), 'mine'),
    args: (d, fx) => ['import', fx.cache, '--out', 'out'],
    code: 0,
    mayChange: ['out'],
  },
  {
    name: 'demo --dir refuses to overwrite a user metrics.py and writes nothing',
    setup: (d) => write(path.join(d, 'proj', 'metrics.py'), 'def compute_metrics(p):\n    return {}\n'),
    args: ['demo', '--dir', 'proj'],
    code: 2,
    stderr: /the demo will not overwrite files in .*proj that it did not write .*metrics\.py\. Nothing was written/,
  },
  {
    name: 'demo --dir refuses to overwrite a user .vscode/launch.json and validation.jsonl, naming both',
    setup: (d) => {
      write(path.join(d, 'proj', '.vscode', 'launch.json'), '{"configurations": []}');
      write(path.join(d, 'proj', 'validation.jsonl'), '{"text": "mine"}\n');
    },
    args: ['demo', '--dir', 'proj'],
    code: 2,
    stderr: /validation\.jsonl, .*\.vscode\/launch\.json\. Nothing was written/,
  },
  {
    name: 'demo --dir whose cache folder is a user folder is refused before writing anything',
    setup: (d) => write(path.join(d, 'proj', 'cache', 'mine.csv'), 'a,b\n'),
    args: ['demo', '--dir', 'proj'],
    code: 2,
    stderr: /cannot write the prediction cache to .*proj\/cache: the folder holds "mine\.csv"/,
  },
  {
    name: 'demo --dir a file is an error',
    setup: (d) => write(path.join(d, 'proj'), 'x'),
    args: ['demo', '--dir', 'proj'],
    code: 2,
    stderr: /--dir .*proj is a file, not a folder/,
  },
  {
    name: 'demo --dir twice: the second run rewrites only its own files; a user file beside them stays',
    setup: async (d) => {
      const r = await runCli(['demo', '--dir', 'proj'], d);
      assert.equal(r.code, 0, r.stderr);
      write(path.join(d, 'proj', 'my-notes.md'), 'mine');
    },
    args: ['demo', '--dir', 'proj'],
    code: 0,
    mayChange: ['proj/cache', 'proj/.evalpred-demo.json'],
    check: (d) => assert.equal(fs.readFileSync(path.join(d, 'proj', 'my-notes.md'), 'utf8'), 'mine'),
  },
];

cliTable('output folders', rows);

test('4 concurrent imports into one folder, many rounds: each ends in a valid cache or a clean error', { timeout: 600_000 }, async () => {
  const fx = await sharedFixture();
  const dir = tempDir();
  const out = path.join(dir, 'out');
  const rounds = Number(process.env.EVALPRED_RACE_ROUNDS ?? 20);
  let failures = 0;
  for (let round = 0; round < rounds; round++) {
    const results = await Promise.all([0, 1, 2, 3].map(() => runCli(['import', fx.cache, '--out', out], dir)));
    for (const r of results) {
      if (r.code !== 0) {
        failures++;
        // a lost race must be a sentence, never a raw ENOENT/ENOTEMPTY
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /^evalpred import: error: cannot write the prediction cache to .*other processes kept replacing it/m, r.stderr);
      }
    }
    assert.ok(isCache(out), `round ${round}: no valid cache at ${out}`);
    const files = fs.readdirSync(out).sort();
    assert.deepEqual(files, ['label_ids.npy', 'manifest.json', 'predictions.npy'], `round ${round}`);
    assert.deepEqual(fs.readdirSync(dir), ['out'], `round ${round}: temp folders left beside the cache`);
  }
  // retries make lost races rare; say how many there were
  assert.ok(failures <= rounds, `${failures} of ${rounds * 4} imports failed`);
});

test('kill -9 during a run leaves only a temp folder, which the next write into that folder removes', { timeout: 300_000 }, async () => {
  const fx = await sharedFixture();
  const dir = tempDir();
  const child = spawn(process.execPath, [CLI, 'run', '--model', fx.model, '--dataset', fx.dataset, '--out', 'out', '--batch-size', '1', '--json'], { cwd: dir, stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  // The temp folder is reserved before the model runs; kill the run as soon as it is there.
  let partial: string | undefined;
  for (let waited = 0; !partial && waited < 60_000; waited += 5) {
    partial = fs.readdirSync(dir).find((n) => n.startsWith('out.partial-'));
    if (!partial) await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(partial, 'the run never reserved its temp folder');
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL', 'the run finished before it could be killed');
  assert.deepEqual(fs.readdirSync(dir), [partial], 'a killed run leaves only its temp folder, never a cache-named one');
  const r = await runCli(['import', fx.cache, '--out', 'out'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(fs.readdirSync(dir), ['out']);
  assert.ok(isCache(path.join(dir, 'out')));
});
