// Writes test/fixtures/parquet/<codec>.parquet: the rows of test/fixtures/parquet/rows.json, one file per
// compression codec that needs a compressor Node does not have (ZSTD — polars' default —, LZ4_RAW — pyarrow's
// "lz4" —, and the older Hadoop-framed LZ4). The pages are compressed by the reference C libraries through
// Debian's Python bindings (apt-get install python3-zstd python3-lz4), and the files are committed, so the
// tests run without Python; gzip, brotli and snappy fixtures are written by the test itself (node:zlib,
// hyparquet-writer). Run again only to change the rows: `node scripts/makeParquetFixtures.mjs`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parquetWriteBuffer } from 'hyparquet-writer';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'test', 'fixtures', 'parquet');
const python = process.env.EVALPRED_PYTHON ?? '/usr/bin/python3';

/** A compressor that pipes the page through one Python expression reading `d` (bytes) and returning bytes. */
function viaPython(expr, imports) {
  return (bytes) =>
    new Uint8Array(execFileSync(python, ['-c', `import sys, struct, ${imports}\nd = sys.stdin.buffer.read()\nsys.stdout.buffer.write(${expr})`], { input: Buffer.from(bytes) }));
}

const CODECS = {
  ZSTD: viaPython('zstd.ZSTD_compress(d, 3)', 'zstd'),
  LZ4_RAW: viaPython('lz4.block.compress(d, store_size=False)', 'lz4.block'),
  // Hadoop's framing, which parquet-mr and old pyarrow wrote for "LZ4": big-endian uncompressed and compressed sizes, then the block.
  LZ4: viaPython("(lambda b: struct.pack('>II', len(d), len(b)) + b)(lz4.block.compress(d, store_size=False))", 'lz4.block'),
};

export function columnData(rows) {
  return [
    { name: 'id', data: rows.map((r) => r.id), type: 'STRING' },
    { name: 'text', data: rows.map((r) => r.text), type: 'STRING' },
    { name: 'label', data: rows.map((r) => BigInt(r.label)), type: 'INT64' },
    { name: 'score', data: rows.map((r) => r.score), type: 'DOUBLE' },
  ];
}

const rows = JSON.parse(fs.readFileSync(path.join(dir, 'rows.json'), 'utf8'));
for (const [codec, compress] of Object.entries(CODECS)) {
  const buf = parquetWriteBuffer({ columnData: columnData(rows), codec, compressors: { [codec]: compress }, statistics: false });
  const file = path.join(dir, `${codec.toLowerCase()}.parquet`);
  fs.writeFileSync(file, new Uint8Array(buf));
  console.log(`${path.relative(root, file)} (${buf.byteLength} bytes)`);
}
