// Dataset readers beyond the basics (data.test.ts): Parquet in every codec writers use by default, TSV, and
// CSV missing values as pandas (and so datasets.load_dataset("csv")) reads them.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { Dataset, loadDataset } from '../../src/core/data';
import { EvalpredError } from '../../src/core/errors';
import { packageRoot } from '../../src/core/paths';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-readers-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const fixtures = path.join(packageRoot(), 'test', 'fixtures', 'parquet');

interface Expected {
  id: string;
  text: string | null;
  label: number;
  score: number | null;
}
const ROWS: Expected[] = JSON.parse(fs.readFileSync(path.join(fixtures, 'rows.json'), 'utf8'));

function allRows(ds: Dataset): unknown[] {
  return Array.from({ length: ds.numRows }, (_, i) => ds.row(i));
}

/** Same columns as scripts/makeParquetFixtures.mjs writes. */
function writeParquet(codec: 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP' | 'BROTLI', compress?: (b: Uint8Array) => Uint8Array): string {
  const buf = parquetWriteBuffer({
    columnData: [
      { name: 'id', data: ROWS.map((r) => r.id), type: 'STRING' },
      { name: 'text', data: ROWS.map((r) => r.text), type: 'STRING' },
      { name: 'label', data: ROWS.map((r) => BigInt(r.label)), type: 'INT64' },
      { name: 'score', data: ROWS.map((r) => r.score), type: 'DOUBLE' },
    ],
    codec,
    compressors: compress ? { [codec]: compress } : undefined,
    statistics: false,
  });
  const file = path.join(tmp, `${codec.toLowerCase()}.parquet`);
  fs.writeFileSync(file, new Uint8Array(buf));
  return file;
}

const toU8 = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const CASES: [codec: string, file: () => string][] = [
  ['UNCOMPRESSED', () => writeParquet('UNCOMPRESSED')],
  ['SNAPPY', () => writeParquet('SNAPPY')], // pyarrow's default; hyparquet-writer's own compressor
  ['GZIP', () => writeParquet('GZIP', (b) => toU8(zlib.gzipSync(b)))],
  ['BROTLI', () => writeParquet('BROTLI', (b) => toU8(zlib.brotliCompressSync(b)))],
  // Compressed by libzstd / liblz4 (scripts/makeParquetFixtures.mjs) and committed: polars' default is zstd.
  ['ZSTD', () => path.join(fixtures, 'zstd.parquet')],
  ['LZ4_RAW', () => path.join(fixtures, 'lz4_raw.parquet')],
  ['LZ4', () => path.join(fixtures, 'lz4.parquet')],
];

function fileBuffer(file: string): ArrayBuffer {
  const b = fs.readFileSync(file);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

for (const [codec, make] of CASES) {
  test(`parquet: pages compressed with ${codec} read back to the written rows`, async () => {
    const file = make();
    // The fixture really uses the codec (every column chunk says so), so this test covers its decoder.
    const codecs = new Set(parquetMetadata(fileBuffer(file)).row_groups.flatMap((g) => g.columns.map((c) => c.meta_data?.codec)));
    assert.deepEqual([...codecs], [codec]);
    const ds = await loadDataset(file);
    assert.equal(ds.format, 'parquet');
    assert.deepEqual(ds.columns, ['id', 'text', 'label', 'score']);
    assert.deepEqual(allRows(ds), ROWS);
  });
}

test('parquet: without hyparquet-compressors a zstd file is unreadable (what users hit before)', async () => {
  await assert.rejects(parquetReadObjects({ file: fileBuffer(path.join(fixtures, 'zstd.parquet')) }), /ZSTD|zstd|compression|codec/i);
});

test('tsv: tab-separated, quoted fields may hold tabs, newlines and quotes; types inferred per column', async () => {
  const file = path.join(tmp, 'v.tsv');
  fs.writeFileSync(file, 'text\tlabel\tscore\n"a\tb ""q""\nc"\t1\t0.5\nplain, with comma\t0\tNA\n');
  const ds = await loadDataset(file);
  assert.equal(ds.format, 'tsv');
  assert.deepEqual(allRows(ds), [
    { text: 'a\tb "q"\nc', label: 1, score: 0.5 },
    { text: 'plain, with comma', label: 0, score: null },
  ]);
  await assert.rejects(loadDataset((fs.writeFileSync(path.join(tmp, 'bad.tsv'), 'a\tb\n1\t2\t3\n'), path.join(tmp, 'bad.tsv'))), (e: unknown) => {
    assert.ok(e instanceof EvalpredError);
    assert.match(e.message, /bad\.tsv, line 2: expected 2 fields/);
    assert.match(e.message, /holding tabs/);
    return true;
  });
});

test('csv: missing values as pandas.read_csv reads them (keep_default_na), text columns included', async () => {
  const file = path.join(tmp, 'na.csv');
  fs.writeFileSync(
    file,
    'text,n,x,tags,empty\n' +
      'NA,1,nan,"[1, 2]",\n' +
      'N/A,NULL,1.5,NA,NaN\n' +
      'null,,-inf,[],\n' +
      'None,3,NaN,None,null\n' +
      ' NA ,4,2,[3],\n' + // not an NA spelling: pandas keeps " NA " as text
      'Namibia,5,3,[4],\n',
  );
  const ds = await loadDataset(file);
  assert.deepEqual(allRows(ds), [
    { text: null, n: 1, x: null, tags: [1, 2], empty: null },
    { text: null, n: null, x: 1.5, tags: null, empty: null },
    { text: null, n: null, x: -Infinity, tags: [], empty: null },
    { text: null, n: 3, x: null, tags: null, empty: null },
    { text: ' NA ', n: 4, x: 2, tags: [3], empty: null },
    { text: 'Namibia', n: 5, x: 3, tags: [4], empty: null },
  ]);
});
