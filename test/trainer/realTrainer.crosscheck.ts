// The real-Trainer cross-check (`npm run test:trainer`, docs/testing.md "The real-Trainer cross-check"):
// tiny random-weight models of each family, built with transformers' own classes, exported to ONNX, evaluated
// by the real Trainer / Seq2SeqTrainer in two transformers lines (4.57.x and 5.x, one venv each, made here under
// ~/.cache/evalpred-trainer) and by the built CLI (dist/cli.js) on the same rows and settings. Each case must
// give the same EvalPrediction (integers exactly, floats within 1e-4, same structure, shapes, dtypes and -100
// padding), the same eval_loss, and an EvalPrediction object with as many elements as the real class yields.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadTokenizer } from '../../src/core/text';
import { offsetsCheckInputs, offsetsCheckTokenizers } from './offsetsCheck';

const ROOT = path.resolve(__dirname, '..', '..');
const HERE = path.join(ROOT, 'test', 'trainer');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const CACHE = process.env.EVALPRED_TRAINER_CACHE ?? path.join(os.homedir(), '.cache', 'evalpred-trainer');
const BASE_PYTHON = process.env.EVALPRED_TRAINER_BASE_PYTHON ?? '/usr/bin/python3';
// The interpreter evalpred runs the probe metric with: NumPy, no transformers, so the EvalPrediction is the
// evalPredictionProfile's stand-in (src/python/evalpred/eval_prediction.py), which is what is checked.
const METRIC_PYTHON = process.env.EVALPRED_PYTHON ?? '/usr/bin/python3';

interface Line {
  name: string;
  /** The evalPredictionProfile that imitates this line (docs/trainer-semantics.md#scope-and-version-profiles). */
  profile: string;
  /** pip install steps, each one `pip install` call. */
  steps: string[][];
  /** After install: transformers 4.57 pins huggingface-hub<1.0, which the wheel index does not hold (see below). */
  relaxHubPin?: boolean;
}

// torch 2.13 CPU: the CPU wheel of the index (the cap in /etc/xdg/pip/constraints.txt allows 2.14.1, a CUDA build).
const COMMON = ['torch==2.13.*', 'accelerate', 'onnx', 'numpy'];
const LINES: Line[] = [
  {
    name: '4.57',
    profile: 'v4.57',
    // transformers 4.57.x requires huggingface-hub<1.0; the only hub on this machine's wheel index is 1.x, which
    // the evaluation loop never touches (no hub downloads: every model is built from code). So transformers is
    // installed without its dependencies, those are installed by name, and the import-time pin check is relaxed.
    steps: [
      [...COMMON, 'tokenizers==0.22.*', 'huggingface-hub', 'safetensors', 'regex', 'pyyaml', 'tqdm', 'filelock', 'packaging', 'requests'],
      ['--no-deps', 'transformers==4.57.*'],
    ],
    relaxHubPin: true,
  },
  { name: '5', profile: 'current', steps: [[...COMMON, 'tokenizers', 'transformers==5.*']] },
];

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, timeout: opts.timeoutMs ?? 20 * 60_000, ...opts });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}):\n${(r.stderr || '').slice(-4000)}\n${(r.stdout || '').slice(-2000)}`);
  }
  return r.stdout;
}

/** The line's venv, made once and reused while its stamp (the install steps) is unchanged. Returns its python. */
function ensureVenv(line: Line): string {
  const dir = path.join(CACHE, `transformers-${line.name}`);
  const py = path.join(dir, 'bin', 'python');
  const stampFile = path.join(dir, '.evalpred-stamp.json');
  const stamp = JSON.stringify({ steps: line.steps, relaxHubPin: !!line.relaxHubPin, format: 1 });
  if (fs.existsSync(py) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) return py;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(CACHE, { recursive: true });
  run(BASE_PYTHON, ['-m', 'venv', dir]);
  // --retries 0: pip's default index may be unreachable (no network); the configured local index answers.
  for (const step of line.steps) run(py, ['-m', 'pip', 'install', '--quiet', '--retries', '0', '--disable-pip-version-check', ...step]);
  if (line.relaxHubPin) {
    const table = run(py, ['-c', 'import importlib.util as u; print(u.find_spec("transformers").submodule_search_locations[0])']).trim() + '/dependency_versions_table.py';
    const body = fs.readFileSync(table, 'utf8');
    fs.writeFileSync(table, body.replace(/"huggingface-hub>=([0-9.]+),<1\.0"/, '"huggingface-hub>=$1"'));
  }
  fs.writeFileSync(stampFile, stamp);
  return py;
}

interface CaseResult {
  ok: boolean;
  problems: string[];
  summary: Record<string, unknown>;
}

const table: string[] = [];
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-trainer-'));
after(() => {
  console.log(['', 'real-Trainer cross-check (line | case | fields | eval_loss | result)', ...table].join('\n'));
  fs.rmSync(work, { recursive: true, force: true });
});

for (const line of LINES) {
  describe(`transformers ${line.name} (profile ${line.profile})`, () => {
    let py = '';
    let cases: string[] = [];
    const out = path.join(work, line.name);
    before(
      () => {
        py = ensureVenv(line);
        const versions = run(py, ['-c', 'import transformers, torch, tokenizers, accelerate, onnx, numpy, sys; print(f"transformers {transformers.__version__}, torch {torch.__version__}, tokenizers {tokenizers.__version__}, accelerate {accelerate.__version__}, onnx {onnx.__version__}, numpy {numpy.__version__}, python {sys.version.split()[0]}")'], { env: { ...process.env, PYTHONWARNINGS: 'ignore' } }).trim();
        console.log(`transformers line ${line.name}: ${versions}`);
        // Builds every case's model, data and the real Trainer's EvalPrediction (test/trainer/cases.py).
        run(py, [path.join(HERE, 'cases.py'), out], { env: { ...process.env, PYTHONWARNINGS: 'ignore', TOKENIZERS_PARALLELISM: 'false' } });
        cases = fs.readdirSync(out).filter((c) => fs.existsSync(path.join(out, c, 'case.json'))).sort();
      },
      { timeout: 40 * 60_000 },
    );

    test('every case was built (one per family and setting)', () => {
      assert.deepEqual(cases, [...caseNames()].sort());
    });

    // The offsets QA and token classification take from our tokenizer, against transformers' fast tokenizer's.
    test('token ids and offsets equal transformers\' (byte-level BPE in five settings, WordPiece, Unigram over Metaspace, Llama-style BPE; texts and pairs)', async () => {
      const dir = path.join(work, `offsets-${line.name}`);
      const dirs = offsetsCheckTokenizers(dir);
      const inputs = offsetsCheckInputs();
      fs.writeFileSync(path.join(dir, 'request.json'), JSON.stringify({ dirs, inputs }));
      const theirs = JSON.parse(run(py, [path.join(HERE, 'offsets.py'), path.join(dir, 'request.json')])) as Record<string, [number[], [number, number][]][]>;
      for (const d of dirs) {
        const tok = await loadTokenizer(d);
        const differ = inputs.filter(([text, pair], k) => {
          const e = tok.encode(text, pair ?? undefined);
          return JSON.stringify([e.ids, e.offsets]) !== JSON.stringify(theirs[d][k]);
        });
        table.push(`${line.name} | offsets ${path.basename(d)} | ${inputs.length - differ.length}/${inputs.length} inputs | - | ${differ.length ? 'DIFFER' : 'agree'}`);
        assert.deepEqual(differ, [], `${path.basename(d)} under transformers ${line.name}`);
      }
    });

    // One test per case, named after it; the list is cases.py's CASES (read here once the venv has made them).
    for (const name of caseNames()) {
      test(name, { timeout: 5 * 60_000 }, () => {
        const dir = path.join(out, name);
        const spec = JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8')) as { flags: string[] };
        const cache = path.join(dir, 'evalpred-cache');
        const stdout = run(
          process.execPath,
          [CLI, 'run', '--model', 'model', '--dataset', 'data.jsonl', ...spec.flags, '--out', cache, '--json',
            '--metrics', path.join(HERE, 'probe_metrics.py'), '--eval-prediction-profile', line.profile],
          { cwd: dir, env: { ...process.env, EVALPRED_PYTHON: METRIC_PYTHON } },
        );
        fs.writeFileSync(path.join(dir, 'evalpred-metrics.json'), stdout);
        const res = JSON.parse(run(py, [path.join(HERE, 'compare.py'), dir, cache, path.join(dir, 'evalpred-metrics.json')])) as CaseResult;
        const s = res.summary;
        const fields = ['predictions', 'label_ids', 'inputs', 'losses'].map((k) => `${k}=${s[k]}`).join(' ');
        table.push(`${line.name} | ${name} | ${fields} | ${s.eval_loss} | ${res.ok ? 'agree' : 'DIFFER: ' + res.problems.join('; ')}`);
        assert.deepEqual(res.problems, [], `${name} under transformers ${line.name}`);
        assert.equal(res.ok, true);
      });
    }
  });
}

/** The case names cases.py defines (parsed from its CASES table, so the test list exists before any venv). */
function caseNames(): string[] {
  const src = fs.readFileSync(path.join(HERE, 'cases.py'), 'utf8');
  const block = src.slice(src.indexOf('CASES = {'), src.indexOf('\n}\n', src.indexOf('CASES = {')));
  return [...block.matchAll(/^\s+"([a-z0-9-]+)": \(/gm)].map((m) => m[1]);
}
