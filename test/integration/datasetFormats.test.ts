// Arrow and Parquet datasets through the built CLI, whose readers live in a bundle of their own
// (dist/datasetFormats.js, src/core/data/formats.ts): loaded only when such a dataset is read, giving the same
// predictions as the JSON Lines file they were written from, and a damaged file is still one paragraph naming it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Int64, Utf8, Field, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { distFile } from '../../src/core/paths';
import { seqClsWorkspace, tempDir } from '../fixtures/workspace';

let dir: string;
let ws: ReturnType<typeof seqClsWorkspace>;
let hook: string;

/** The CLI with a preload that lists, in `log`, every module any of its threads requires. */
function cli(args: string[], log: string) {
  const r = spawnSync(process.execPath, ['-r', hook, distFile('cli.js'), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, EVALPRED_REQUIRE_LOG: log } });
  const required = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, required };
}

before(() => {
  dir = tempDir();
  ws = seqClsWorkspace(dir, { n: 12, numLabels: 2 });
  hook = path.join(dir, 'requireLog.js');
  fs.writeFileSync(
    hook,
    `const Module = require('module'), fs = require('fs');
const load = Module._load;
Module._load = function (request, ...rest) {
  fs.appendFileSync(process.env.EVALPRED_REQUIRE_LOG, request + '\\n');
  return load.call(this, request, ...rest);
};
`,
  );
  const rows = fs.readFileSync(ws.dataset, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { sentence: string; label: number });
  const parquet = parquetWriteBuffer({
    columnData: [
      { name: 'sentence', data: rows.map((r) => r.sentence), type: 'STRING' },
      { name: 'label', data: rows.map((r) => BigInt(r.label)), type: 'INT64' },
    ],
    statistics: false,
  });
  fs.writeFileSync(path.join(dir, 'data.parquet'), new Uint8Array(parquet));
  const table = new Table({
    sentence: vectorFromArray(rows.map((r) => r.sentence), new Utf8()),
    label: vectorFromArray(rows.map((r) => BigInt(r.label)), new Int64()),
  });
  assert.ok(table.schema.fields.every((f: Field) => f.name === 'sentence' || f.name === 'label'));
  fs.writeFileSync(path.join(dir, 'data.arrow'), tableToIPC(table, 'stream'));
  // A parquet file cut short: its footer (the metadata) is gone.
  fs.writeFileSync(path.join(dir, 'cut.parquet'), new Uint8Array(parquet).subarray(0, Math.floor(parquet.byteLength / 2)));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const run = (dataset: string, log: string) => cli(['run', '--model', ws.modelDir, '--dataset', dataset, '--batch-size', '4', '--out', path.join(dir, `cache-${path.basename(dataset)}`)], path.join(dir, log));
const metricsOf = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, number>;

test('a JSON Lines run never loads the Arrow/Parquet bundle; .parquet and .arrow runs load it and give the same metrics', () => {
  const jsonl = run(ws.dataset, 'jsonl.log');
  assert.equal(jsonl.code, 0, jsonl.stderr);
  assert.ok(jsonl.required.some((r) => r === 'onnxruntime-node'), 'the log sees the loop worker too');
  assert.deepEqual(jsonl.required.filter((r) => /datasetFormats|apache-arrow|hyparquet/.test(r)), []);
  const want = metricsOf(jsonl.stdout);
  for (const file of ['data.parquet', 'data.arrow']) {
    const r = run(path.join(dir, file), `${file}.log`);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.required.includes('./datasetFormats.js'), `${file}: the readers' bundle was loaded`);
    const got = metricsOf(r.stdout);
    assert.equal(got.eval_loss, want.eval_loss, file);
    assert.equal(got.eval_accuracy, want.eval_accuracy, file);
    assert.match(r.stderr, /label_ids\s+= int64\[12\]/);
  }
});

test('a damaged .parquet: exit 2 and one paragraph naming the file, no stack trace, no cache written', () => {
  const r = run(path.join(dir, 'cut.parquet'), 'cut.log');
  assert.equal(r.code, 2, r.stderr);
  assert.ok(r.stderr.includes(path.join(dir, 'cut.parquet')), r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.doesNotMatch(r.stderr, /internal error/i);
  assert.equal(fs.existsSync(path.join(dir, 'cache-cut.parquet')), false);
});
