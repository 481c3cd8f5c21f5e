// The dtype table: one row per NumPy dtype we carry. float16 is stored as raw bits (Uint16Array) and
// widened to float32 for any maths; bool is stored as one byte per element, as NumPy does.

/** Whether this host stores numbers little-endian (typed arrays use the host's order; .npy and ONNX use little-endian). */
export const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

export type DType = 'float16' | 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'int32' | 'int64' | 'bool';

export type TensorData =
  | Float32Array
  | Float64Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Int32Array
  | BigInt64Array;

export interface DTypeInfo {
  readonly name: DType;
  /** NumPy's `descr` string in .npy headers (little-endian). */
  readonly npyDescr: string;
  readonly itemSize: number;
  readonly isFloat: boolean;
  readonly isBigInt: boolean;
  readonly ctor: { new (length: number): TensorData; new (buf: ArrayBufferLike, byteOffset: number, length: number): TensorData };
}

export const DTYPES: Readonly<Record<DType, DTypeInfo>> = {
  float16: { name: 'float16', npyDescr: '<f2', itemSize: 2, isFloat: true, isBigInt: false, ctor: Uint16Array },
  float32: { name: 'float32', npyDescr: '<f4', itemSize: 4, isFloat: true, isBigInt: false, ctor: Float32Array },
  float64: { name: 'float64', npyDescr: '<f8', itemSize: 8, isFloat: true, isBigInt: false, ctor: Float64Array },
  int8: { name: 'int8', npyDescr: '|i1', itemSize: 1, isFloat: false, isBigInt: false, ctor: Int8Array },
  uint8: { name: 'uint8', npyDescr: '|u1', itemSize: 1, isFloat: false, isBigInt: false, ctor: Uint8Array },
  int16: { name: 'int16', npyDescr: '<i2', itemSize: 2, isFloat: false, isBigInt: false, ctor: Int16Array },
  int32: { name: 'int32', npyDescr: '<i4', itemSize: 4, isFloat: false, isBigInt: false, ctor: Int32Array },
  int64: { name: 'int64', npyDescr: '<i8', itemSize: 8, isFloat: false, isBigInt: true, ctor: BigInt64Array },
  bool: { name: 'bool', npyDescr: '|b1', itemSize: 1, isFloat: false, isBigInt: false, ctor: Uint8Array },
};

/**
 * The dtype allow-list every reader of a cache applies (this TS reader, the Python worker's _CACHE_DTYPES
 * in src/python/evalpred_worker.py, inspect, the view, the adapter): exactly the descr strings numpy.save
 * writes for our dtypes, little- or big-endian. A unit test keeps the Python copy equal to this one.
 */
export const NPY_DESCRS: ReadonlyMap<string, { dtype: DType; bigEndian: boolean }> = new Map<string, { dtype: DType; bigEndian: boolean }>(
  Object.values(DTYPES).flatMap((d): Array<[string, { dtype: DType; bigEndian: boolean }]> =>
    d.itemSize === 1
      ? [[d.npyDescr, { dtype: d.name, bigEndian: false }]]
      : [
          [d.npyDescr, { dtype: d.name, bigEndian: false }],
          [`>${d.npyDescr.slice(1)}`, { dtype: d.name, bigEndian: true }],
        ],
  ),
);

export function isDType(s: string): s is DType {
  return Object.prototype.hasOwnProperty.call(DTYPES, s);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half bits -> number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** number -> IEEE half bits, round to nearest even (as NumPy's astype(float16)). */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}
