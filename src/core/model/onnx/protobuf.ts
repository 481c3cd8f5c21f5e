// A minimal protocol-buffers wire-format writer and reader: just enough to emit ONNX ModelProto bytes from code
// (so test and demo models need no Python, no download and no protobuf dependency) and to read the few fields
// the model session needs from a user's model (embedding rows, bfloat16 outputs).
// Messages are encoded bottom-up: a nested message is finished to bytes, then written as a length-delimited field.

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const textEncoder = new TextEncoder();

export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private current: number[] = [];
  private length = 0;

  /** Raw varint; negatives are written as 64-bit two's complement (10 bytes), as protobuf does for int32/int64. */
  private varint(value: number | bigint): void {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new RangeError(`varint needs a safe integer, got ${value}`);
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  private byte(b: number): void {
    this.current.push(b);
    this.length++;
  }

  private bytes(b: Uint8Array): void {
    this.flush();
    this.chunks.push(b);
    this.length += b.length;
  }

  private flush(): void {
    if (this.current.length) {
      this.chunks.push(Uint8Array.from(this.current));
      this.current = [];
    }
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  /** int32 / int64 / uint64 / enum / bool field. */
  int(field: number, value: number | bigint | boolean): this {
    this.tag(field, WIRE_VARINT);
    this.varint(typeof value === 'boolean' ? (value ? 1 : 0) : value);
    return this;
  }

  /** float field (fixed32, little-endian). */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.bytes(b);
    return this;
  }

  /** double field (fixed64, little-endian). */
  double(field: number, value: number): this {
    this.tag(field, WIRE_FIXED64);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, value, true);
    this.bytes(b);
    return this;
  }

  /** bytes field, or an already-encoded nested message. */
  lengthDelimited(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.varint(value.length);
    this.bytes(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.lengthDelimited(field, textEncoder.encode(value));
  }

  message(field: number, msg: ProtoWriter | Uint8Array): this {
    return this.lengthDelimited(field, msg instanceof ProtoWriter ? msg.finish() : msg);
  }

  /** Bytes that are already wire format (a field copied from a model being rewritten). */
  raw(b: Uint8Array): this {
    this.bytes(b);
    return this;
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.length);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

// ---- reading ------------------------------------------------------------------------------------------

export interface ProtoField {
  /** where the field's key starts (raw copy = buf.subarray(rawStart, end)) */
  rawStart: number;
  no: number;
  wire: number;
  /** varint value (wire 0) */
  value: number;
  /** payload range (wire 2) */
  start: number;
  end: number;
}

export function readFields(buf: Uint8Array, start: number, end: number): ProtoField[] {
  const out: ProtoField[] = [];
  let p = start;
  while (p < end) {
    const rawStart = p;
    let key: number;
    [key, p] = readVarint(buf, p);
    const no = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) {
      let value: number;
      [value, p] = readVarint(buf, p);
      out.push({ rawStart, no, wire, value, start: p, end: p });
    } else if (wire === 2) {
      let len: number;
      [len, p] = readVarint(buf, p);
      if (p + len > end) throw new RangeError('truncated protobuf');
      out.push({ rawStart, no, wire, value: 0, start: p, end: p + len });
      p += len;
    } else if (wire === 1 || wire === 5) {
      p += wire === 1 ? 8 : 4;
      out.push({ rawStart, no, wire, value: 0, start: p, end: p });
    } else throw new RangeError(`unsupported wire type ${wire}`);
  }
  return out;
}

export function readVarint(buf: Uint8Array, p: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (;;) {
    if (p >= buf.length) throw new RangeError('truncated varint');
    const b = buf[p++];
    v += (b & 0x7f) * mul;
    if (b < 0x80) return [v, p];
    mul *= 128;
  }
}
