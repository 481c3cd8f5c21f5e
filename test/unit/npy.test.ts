// .npy / .npz against NumPy itself: NumPy writes the fixtures, we compare bytes and values. Expected values
// come from one formula evaluated independently on both sides (JS below, Python in FIXTURES).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pythonWith } from '../helpers/python';
import { DType } from '../../src/core/tensor/dtype';
import { Tensor } from '../../src/core/tensor/tensor';
import { encodeNpy, parseNpy, readNpyFile, writeNpyFile } from '../../src/core/tensor/npy';
import { memberError, memberStream, openNpz } from '../../src/core/tensor/npz';
import { writeNpyStream } from '../../src/core/tensor/npyStream';
import { rejectsWith, userErrorOf } from '../helpers/errors';
import { tempDir } from '../helpers/tempDir';

const tmp = tempDir();
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const DTYPES: DType[] = ['float16', 'float32', 'float64', 'int8', 'uint8', 'int16', 'int32', 'int64', 'bool'];
const NP_NAME: Record<DType, string> = {
  float16: 'float16', float32: 'float32', float64: 'float64', int8: 'int8', uint8: 'uint8',
  int16: 'int16', int32: 'int32', int64: 'int64', bool: 'bool_',
};
const SHAPES: number[][] = [[], [5], [2, 3], [0], [2, 0, 3], [1, 2, 3, 4], [123456789, 0]];

/** Element i of the fixture arrays: small values exact in every dtype (multiples of 1/4 for floats). */
function valueAt(dtype: DType, i: number): number | bigint {
  const base = ((i * 7) % 11) - 5;
  if (dtype === 'bool') return i % 3 === 0 ? 1 : 0;
  if (dtype === 'uint8') return (i * 7) % 256;
  if (dtype === 'int64') return BigInt(base) * 10n ** 12n;
  if (dtype.startsWith('float')) return base / 4;
  return base;
}
const PY_VALUE = `
def values(dt, n):
    i = np.arange(n, dtype=np.int64)
    base = (i * 7) % 11 - 5
    if dt == 'bool_': return (i % 3 == 0)
    if dt == 'uint8': return ((i * 7) % 256).astype(np.uint8)
    if dt == 'int64': return base * 10**12
    if dt.startswith('float'): return (base / 4).astype(dt)
    return base.astype(dt)
`;

function jsTensor(dtype: DType, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.from(dtype, shape, Array.from({ length: n }, (_, i) => valueAt(dtype, i)));
}

/** Every Python with NumPy here: the default one and Debian's numpy 1.24, whose bytes we must match. */
function pythons(): string[] {
  const list = [pythonWith(['numpy'])];
  if (fs.existsSync('/usr/bin/python3') && spawnSync('/usr/bin/python3', ['-c', 'import numpy']).status === 0) list.push('/usr/bin/python3');
  return [...new Set(list.map((p) => fs.realpathSync(p.includes('/') ? p : execFileSync('which', [p], { encoding: 'utf8' }).trim())))];
}

function py(interp: string, code: string): string {
  return execFileSync(interp, ['-c', code], { encoding: 'utf8', cwd: tmp });
}

test('encodeNpy is byte-identical to numpy.save for every dtype and 0-d/1-d/n-d/empty shapes', () => {
  const cases = DTYPES.flatMap((d) => SHAPES.map((s) => ({ d, s })));
  for (const interp of pythons()) {
    const dir = fs.mkdtempSync(path.join(tmp, 'np-'));
    py(
      interp,
      `import numpy as np, json\n${PY_VALUE}\n` +
        `for k, (d, s) in enumerate(json.loads(${JSON.stringify(JSON.stringify(cases.map((c) => [NP_NAME[c.d], c.s])))})):\n` +
        `    n = int(np.prod(s)) if s else 1\n` +
        `    np.save(${JSON.stringify(dir)} + '/%d.npy' % k, values(d, n).reshape(s))\n`,
    );
    const version = py(interp, 'import numpy; print(numpy.__version__)').trim();
    cases.forEach(({ d, s }, k) => {
      const ours = encodeNpy(jsTensor(d, s));
      const theirs = fs.readFileSync(path.join(dir, `${k}.npy`));
      assert.ok(ours.equals(theirs), `${d} shape (${s.join(', ')}) differs from numpy ${version}:\n${ours.subarray(0, 128).toString('latin1')}\n${theirs.subarray(0, 128).toString('latin1')}`);
      // and the data starts on a 64-byte boundary, as the format promises
      assert.equal((ours.indexOf(0x0a) + 1) % 64, 0);
    });
  }
});

test('parseNpy/readNpyFile read NumPy files: all dtypes, big-endian, versions 2.0 and 3.0, NaN/inf kept', () => {
  const specs: Array<[string, DType, string]> = [
    ['<f2', 'float16', 'float16'], ['>f2', 'float16', 'float16'], ['<f4', 'float32', 'float32'], ['>f4', 'float32', 'float32'],
    ['>f8', 'float64', 'float64'], ['|i1', 'int8', 'int8'], ['|u1', 'uint8', 'uint8'], ['>i2', 'int16', 'int16'],
    ['>i4', 'int32', 'int32'], ['>i8', 'int64', 'int64'], ['<i8', 'int64', 'int64'], ['|b1', 'bool', 'bool_'],
  ];
  py(
    pythonWith(['numpy']),
    `import numpy as np\n${PY_VALUE}\n` +
      specs.map(([descr, , np], k) => `np.save('r${k}.npy', values('${np}', 6).reshape(2, 3).astype('${descr}'))`).join('\n') +
      `\nnp.lib.format.write_array(open('v2.npy', 'wb'), values('float32', 4), version=(2, 0))` +
      `\nnp.lib.format.write_array(open('v3.npy', 'wb'), values('int32', 4).reshape(2, 2), version=(3, 0))` +
      `\nnp.save('special.npy', np.array([np.nan, np.inf, -np.inf, -0.0, 1e-45], dtype='>f4'))`,
  );
  specs.forEach(([descr, dtype], k) => {
    const t = readNpyFile(path.join(tmp, `r${k}.npy`));
    assert.equal(t.dtype, dtype, descr);
    assert.deepEqual(t.shape, [2, 3]);
    assert.deepEqual(t.data, jsTensor(dtype, [6]).data, descr); // same typed array class and elements
    // parseNpy from an unaligned slice gives the same tensor (fs buffers may start at odd offsets)
    const bytes = fs.readFileSync(path.join(tmp, `r${k}.npy`));
    const odd = new Uint8Array(bytes.length + 1);
    odd.set(bytes, 1);
    assert.deepEqual(parseNpy(odd.subarray(1), 'x.npy').data, t.data);
  });
  const v2 = readNpyFile(path.join(tmp, 'v2.npy'));
  assert.deepEqual([...v2.data], [-5 / 4, 2 / 4, -2 / 4, 5 / 4]); // base = (0,7,14,21) % 11 - 5 = -5, 2, -2, 5
  const v3 = readNpyFile(path.join(tmp, 'v3.npy'));
  assert.deepEqual(v3.toArray(), [[-5, 2], [-2, 5]]);
  const sp = readNpyFile(path.join(tmp, 'special.npy'));
  assert.ok(Number.isNaN(sp.at(0)));
  assert.deepEqual([sp.at(1), sp.at(2), Object.is(sp.at(3), -0), sp.at(4)], [Infinity, -Infinity, true, Math.fround(1e-45)]);
});

test('writeNpyFile output loads in NumPy with the same values; encode/parse round trip for every dtype', () => {
  DTYPES.forEach((d, k) => writeNpyFile(path.join(tmp, `w${k}.npy`), jsTensor(d, [3, 4])));
  const out = py(
    pythonWith(['numpy']),
    `import numpy as np\n${PY_VALUE}\n` +
      `print(all(np.array_equal(np.load('w%d.npy' % k), values(d, 12).reshape(3, 4)) and np.load('w%d.npy' % k).dtype == np.dtype(d) for k, d in enumerate(${JSON.stringify(DTYPES.map((d) => NP_NAME[d]))})))`,
  );
  assert.equal(out.trim(), 'True');
  for (const d of DTYPES) {
    const t = jsTensor(d, [2, 1, 3]);
    const back = parseNpy(encodeNpy(t), 'rt.npy');
    assert.equal(back.dtype, d);
    assert.deepEqual(back.shape, [2, 1, 3]);
    assert.deepEqual(back.data, t.data);
  }
});


test('refuses Fortran order, object/str/complex/structured/unsigned dtypes, bad magic and truncated files, naming the file', () => {
  py(
    pythonWith(['numpy']),
    `import numpy as np
np.save('fortran.npy', np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
np.save('object.npy', np.array([1, 'a', None], dtype=object), allow_pickle=True)
np.save('unicode.npy', np.array(['abc', 'de']))
np.save('bytes.npy', np.array([b'abc']))
np.save('complex.npy', np.array([1 + 2j]))
np.save('struct.npy', np.zeros(2, dtype=[('a', '<i4'), ('b', '<f8')]))
np.save('u16.npy', np.arange(3, dtype=np.uint16))
np.save('u32.npy', np.arange(3, dtype=np.uint32))
np.save('u64.npy', np.arange(3, dtype=np.uint64))
np.save('big.npy', np.arange(100, dtype=np.float32).reshape(10, 10))`,
  );
  const f = (n: string) => path.join(tmp, n);
  assert.match(userErrorOf(() => readNpyFile(f('fortran.npy'))).message, /fortran\.npy.*Fortran \(column-major\) order/);
  assert.match(userErrorOf(() => readNpyFile(f('object.npy'))).message, /object\.npy.*Python objects/);
  assert.match(userErrorOf(() => readNpyFile(f('unicode.npy'))).message, /unicode\.npy.*unicode strings/);
  assert.match(userErrorOf(() => readNpyFile(f('bytes.npy'))).message, /bytes\.npy.*byte strings/);
  assert.match(userErrorOf(() => readNpyFile(f('complex.npy'))).message, /complex\.npy.*complex numbers/);
  assert.match(userErrorOf(() => readNpyFile(f('struct.npy'))).message, /struct\.npy.*structured dtype/);
  for (const bits of [16, 32, 64]) {
    assert.match(userErrorOf(() => readNpyFile(f(`u${bits}.npy`))).message, new RegExp(`u${bits}\\.npy.*uint${bits}.*does not support`));
  }
  fs.writeFileSync(f('magic.npy'), Buffer.from('PK\x03\x04 definitely not npy'));
  assert.match(userErrorOf(() => readNpyFile(f('magic.npy'))).message, /magic\.npy.*NumPy magic/);

  // Cut a 10x10 float32 file (128-byte header + 400 data bytes) to 300 bytes.
  const whole = fs.readFileSync(f('big.npy'));
  assert.equal(whole.length, 528);
  fs.writeFileSync(f('cut.npy'), whole.subarray(0, 300));
  for (const e of [userErrorOf(() => readNpyFile(f('cut.npy'))), userErrorOf(() => parseNpy(whole.subarray(0, 300), f('cut.npy')))]) {
    assert.match(e.message, /cut\.npy is truncated/);
    assert.match(e.message, /400 bytes of data/);
    assert.match(e.message, /528 bytes in all/);
    assert.match(e.message, /only 300 bytes/);
  }
  fs.writeFileSync(f('cuthead.npy'), whole.subarray(0, 40));
  assert.match(userErrorOf(() => readNpyFile(f('cuthead.npy'))).message, /cuthead\.npy.*truncated inside the header.*118 bytes.*only 40 bytes/);
  assert.match(userErrorOf(() => readNpyFile(f('nonexistent.npy'))).message, /nonexistent\.npy/);
});

/** Every .npy member of an .npz, streamed to a file (as `evalpred import` does) and read back. */
async function readNpz(bytes: Uint8Array, name: string): Promise<Map<string, Tensor>> {
  const file = path.join(tmp, `stream-${name}`);
  fs.writeFileSync(file, bytes);
  const a = openNpz(file, name);
  const out = new Map<string, Tensor>();
  try {
    for (const m of a.members) {
      const dest = path.join(tmp, `member-${m.name}`);
      await writeNpyStream(memberStream(a, m), dest, { source: `${name}[${m.name}]`, fail: (why) => memberError(a, m, why), exactBytes: m.size, crc: m.crc });
      out.set(m.name.slice(0, -4), readNpyFile(dest));
      fs.rmSync(dest);
    }
  } finally {
    a.close();
  }
  return out;
}

test('.npz members stream from np.savez, np.savez_compressed and zip64 archives; corrupt members are named', async () => {
  py(
    pythonWith(['numpy']),
    `import numpy as np, zipfile
${PY_VALUE}
arrs = dict(predictions=values('float32', 12).reshape(3, 4), label_ids=values('int64', 3), mask=values('bool_', 5))
np.savez('plain.npz', **arrs)
np.savez_compressed('packed.npz', **arrs)
np.savez('positional.npz', values('float64', 2), values('int8', 3))
np.savez('bigendian.npz', predictions=values('float32', 12).reshape(3, 4).astype('>f4'), label_ids=values('int64', 3).astype('>i8'))
# Force zip64 records everywhere (central directory extras, zip64 end record) on a small file.
zipfile.ZIP64_LIMIT = 0
zipfile.ZIP_FILECOUNT_LIMIT = 0
np.savez_compressed('zip64.npz', **arrs)
assert np.load('zip64.npz')['predictions'].shape == (3, 4)`,
  );
  const expect = { predictions: jsTensor('float32', [3, 4]), label_ids: jsTensor('int64', [3]), mask: jsTensor('bool', [5]) };
  for (const name of ['plain.npz', 'packed.npz', 'zip64.npz']) {
    const bytes = fs.readFileSync(path.join(tmp, name));
    if (name === 'zip64.npz') assert.ok(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])), 'fixture has a zip64 end record');
    const m = await readNpz(bytes, name);
    assert.deepEqual([...m.keys()], Object.keys(expect), name);
    for (const [k, t] of Object.entries(expect)) {
      assert.equal(m.get(k)!.dtype, t.dtype);
      assert.deepEqual(m.get(k)!.shape, t.shape);
      assert.deepEqual(m.get(k)!.data, t.data, `${name} ${k}`);
    }
  }
  // Big-endian members are written little-endian (the cache's .npy files always are), values unchanged.
  const be = await readNpz(fs.readFileSync(path.join(tmp, 'bigendian.npz')), 'bigendian.npz');
  assert.deepEqual(be.get('predictions')!.data, expect.predictions.data);
  assert.deepEqual(be.get('label_ids')!.data, expect.label_ids.data);
  // Sentinel values in the classic end record: a reader must take the counts and offset from the zip64 record.
  const z64 = Buffer.from(fs.readFileSync(path.join(tmp, 'zip64.npz')));
  const eocd = z64.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  z64.writeUInt16LE(0xffff, eocd + 8);
  z64.writeUInt16LE(0xffff, eocd + 10);
  z64.writeUInt32LE(0xffffffff, eocd + 16);
  assert.deepEqual((await readNpz(z64, 'zip64.npz')).get('label_ids')!.data, expect.label_ids.data);

  const pos = await readNpz(fs.readFileSync(path.join(tmp, 'positional.npz')), 'positional.npz');
  assert.deepEqual([...pos.keys()], ['arr_0', 'arr_1']);
  assert.deepEqual(pos.get('arr_1')!.toArray(), [-5, 2, -2]);

  // Flip one byte inside the stored predictions data: CRC mismatch, member named, its partial file removed.
  const plain = Buffer.from(fs.readFileSync(path.join(tmp, 'plain.npz')));
  const at = plain.indexOf(Buffer.from("{'descr': '<f4'")) + 140;
  plain[at] ^= 0xff;
  await rejectsWith(readNpz(plain, 'plain.npz'), /plain\.npz: member predictions\.npy is corrupt: CRC-32 mismatch/);
  assert.equal(fs.existsSync(path.join(tmp, 'member-predictions.npy')), false, 'the partial member file is removed');
  // Damage the deflate stream of the compressed file.
  const packed = Buffer.from(fs.readFileSync(path.join(tmp, 'packed.npz')));
  packed.fill(0xff, 60, 90);
  await rejectsWith(readNpz(packed, 'packed.npz'), /packed\.npz: member predictions\.npy is corrupt: its deflate stream does not decompress/);
  // Truncated archive: no end record.
  const cut = fs.readFileSync(path.join(tmp, 'plain.npz')).subarray(0, 200);
  await rejectsWith(readNpz(cut, 'cut.npz'), /cut\.npz is not a readable \.npz.*truncated/);
  await rejectsWith(readNpz(Buffer.from('hello world, not a zip at all'), 'x.npz'), /x\.npz is not a readable \.npz/);
});
