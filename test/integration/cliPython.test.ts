// Which Python the `evalpred` command runs a .py metric with (README "Which Python runs your metric"):
// --python, else EVALPRED_PYTHON, else the first python3 on PATH that has NumPy. The built CLI in real
// processes, with a PATH whose first python3 has no NumPy (a stand-in for pyenv's).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { distFile } from '../../src/core/paths';
import { seqClsWorkspace, tempDir } from '../fixtures/workspace';
import { pythonWith } from '../helpers/python';

let dir: string;
let noNumpyBin: string;
let numpyPython: string;
let cache: string;
let metric: string;

/** The CLI with `env` over a PATH whose python3 has no NumPy and no EVALPRED_PYTHON (unless given). */
function cli(args: string[], env: Record<string, string> = {}) {
  const base = { ...process.env };
  delete base.EVALPRED_PYTHON;
  const r = spawnSync(process.execPath, [distFile('cli.js'), ...args], { cwd: dir, encoding: 'utf8', env: { ...base, PATH: `${noNumpyBin}${path.delimiter}${process.env.PATH}`, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(() => {
  dir = tempDir();
  numpyPython = fs.realpathSync(spawnSync(pythonWith(['numpy']), ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim());
  // python3 that cannot import NumPy: the real interpreter without site-packages (-S).
  noNumpyBin = path.join(dir, 'bin');
  fs.mkdirSync(noNumpyBin);
  fs.writeFileSync(path.join(noNumpyBin, 'python3'), `#!/bin/sh\nexec ${numpyPython} -S "$@"\n`, { mode: 0o755 });
  const ws = seqClsWorkspace(dir, { n: 6, numLabels: 2 });
  metric = path.join(dir, 'metric.py');
  fs.writeFileSync(metric, 'import sys\nimport numpy as np\n\ndef compute_metrics(p):\n    print("ran in", sys.executable)\n    return {"acc": float((np.argmax(p.predictions, -1) == p.label_ids).mean())}\n');
  cache = path.join(dir, 'cache');
  const r = cli(['run', '--model', ws.modelDir, '--dataset', ws.dataset, '--out', cache, '--metrics', metric, '--python', numpyPython]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`ran in ${numpyPython.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.ok('eval_acc' in JSON.parse(r.stdout));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('--python with a path that does not exist: exit 2, one line naming the flag and the path, nothing run', () => {
  const r = cli(['metrics', '--cache', cache, '--metrics', metric, '--python', '/nonexistent/bin/python3']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--python \/nonexistent\/bin\/python3: there is no such file \(\/nonexistent\/bin\/python3\)\. Give a Python 3 interpreter that has NumPy/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(r.stdout, '');
  const folder = cli(['metrics', '--cache', cache, '--metrics', metric, '--python', dir]);
  assert.equal(folder.code, 2);
  assert.match(folder.stderr, /is a folder; give the interpreter inside it \(.*bin\/python\)/);
});

test('--python with an interpreter without NumPy names it and gives its pip line', () => {
  const fake = path.join(noNumpyBin, 'python3');
  const r = cli(['metrics', '--cache', cache, '--metrics', metric, '--python', fake]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /has no NumPy/);
  assert.match(r.stderr, /-m pip install numpy`/);
  assert.match(r.stderr, /--python \(or EVALPRED_PYTHON\)/);
});

test('--python without NumPy: the error also names an interpreter on PATH that has NumPy, and it has', () => {
  const r = cli(['metrics', '--cache', cache, '--metrics', metric, '--python', path.join(noNumpyBin, 'python3')]);
  assert.equal(r.code, 2, r.stderr);
  const found = /On this machine (\S+) has NumPy: --python (\S+)\./.exec(r.stderr);
  assert.ok(found, r.stderr);
  assert.equal(found[2], found[1]);
  assert.notEqual(found[1], path.join(noNumpyBin, 'python3'));
  assert.equal(spawnSync(found[1], ['-c', 'import numpy']).status, 0, `${found[1]} imports NumPy`);
});

test('a metric importing a module its interpreter lacks: the error names the interpreter on PATH that has it, or none when none has', () => {
  // A python3 on PATH that finds the module (the same binary with PYTHONPATH over a folder holding it).
  const home = path.join(dir, 'modhome');
  fs.mkdirSync(path.join(home, 'evalpred_probe_mod'), { recursive: true });
  fs.writeFileSync(path.join(home, 'evalpred_probe_mod', '__init__.py'), 'VALUE = 7\n');
  const withModBin = path.join(dir, 'withmod');
  fs.mkdirSync(withModBin, { recursive: true });
  const withMod = path.join(withModBin, 'python3');
  fs.writeFileSync(withMod, `#!/bin/sh\nPYTHONPATH=${home} exec ${numpyPython} "$@"\n`, { mode: 0o755 });
  const needs = path.join(dir, 'needs_probe_mod.py');
  fs.writeFileSync(needs, 'import evalpred_probe_mod\n\ndef compute_metrics(p):\n    return {"v": evalpred_probe_mod.VALUE}\n');
  const env = { PATH: `${noNumpyBin}${path.delimiter}${withModBin}${path.delimiter}${process.env.PATH}` };
  const r = cli(['metrics', '--cache', cache, '--metrics', needs, '--python', numpyPython], env);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /needs_probe_mod\.py:1: ModuleNotFoundError: No module named 'evalpred_probe_mod'/);
  assert.ok(r.stderr.includes(`On this machine ${withMod} has it (and NumPy): --python ${withMod}.`), r.stderr);
  // The interpreter it names runs the metric.
  const named = cli(['metrics', '--cache', cache, '--metrics', needs, '--python', withMod], env);
  assert.equal(named.code, 0, named.stderr);
  assert.equal(JSON.parse(named.stdout).eval_v, 7);
  // Nobody has it: no such sentence.
  fs.writeFileSync(needs, 'import evalpred_nobody_has_this\n\ndef compute_metrics(p):\n    return {}\n');
  const none = cli(['metrics', '--cache', cache, '--metrics', needs, '--python', numpyPython], env);
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /has no module 'evalpred_nobody_has_this'/);
  assert.doesNotMatch(none.stderr, /On this machine/);
});

test('--python /usr/bin/python3 (the system one, with NumPy) runs the metric there', () => {
  const r = cli(['metrics', '--cache', cache, '--metrics', metric, '--python', numpyPython]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stderr.includes(`ran in ${numpyPython}`), r.stderr);
  assert.equal(typeof JSON.parse(r.stdout).eval_acc, 'number');
});

test('precedence: --python over EVALPRED_PYTHON over PATH; without either the first python3 on PATH with NumPy', () => {
  const flagWins = cli(['metrics', '--cache', cache, '--metrics', metric, '--python', numpyPython], { EVALPRED_PYTHON: '/nonexistent/python3' });
  assert.equal(flagWins.code, 0, flagWins.stderr);
  const envUsed = cli(['metrics', '--cache', cache, '--metrics', metric], { EVALPRED_PYTHON: '/nonexistent/python3' });
  assert.equal(envUsed.code, 2);
  assert.match(envUsed.stderr, /Python interpreter '\/nonexistent\/python3' was not found/);
  // PATH's first python3 has no NumPy: the next interpreter that has it runs the metric.
  const fromPath = cli(['metrics', '--cache', cache, '--metrics', metric]);
  assert.equal(fromPath.code, 0, fromPath.stderr);
  assert.doesNotMatch(fromPath.stderr, /no NumPy/);
  assert.match(fromPath.stderr, /ran in \//);
});

test('evalpred metrics --help lists --python', () => {
  const r = cli(['metrics', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--python VALUE\s+Python interpreter for a \.py metric \(default: \$EVALPRED_PYTHON, else the first python3 on PATH that has NumPy\)/);
});
