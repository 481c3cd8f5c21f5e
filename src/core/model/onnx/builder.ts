// An ONNX graph builder that writes ModelProto bytes with no dependency (field numbers from onnx/onnx.proto).
// Enough for the tiny models the tests and the demo need: nodes with int/float/string/tensor attributes,
// initializers stored as little-endian raw_data, inputs/outputs with fixed or symbolic dims.
//
//   const g = new GraphBuilder('tiny');
//   g.input('input_ids', 'int64', ['batch', 'sequence']);
//   g.initializer('E', Tensor.from('float32', [V, H], weights));
//   g.node('Gather', ['E', 'input_ids'], ['emb']);
//   g.output('emb', 'float32', ['batch', 'sequence', H]);
//   const bytes = g.toModel({ opset: 17 });
import { DType, LITTLE_ENDIAN_HOST } from '../../tensor/dtype';
import { Tensor } from '../../tensor/tensor';
import { ProtoWriter } from './protobuf';

/** onnx.TensorProto.DataType for each of our dtypes. */
export const ONNX_DATA_TYPE: Readonly<Record<DType, number>> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int16: 5,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
};

/** A dim of an input/output: a fixed size or a symbolic name such as 'batch'. */
export type Dim = number | string;

/** Explicitly typed attribute values (plain numbers/arrays are inferred: all-integer -> INT(S), else FLOAT(S)). */
export type TypedAttr =
  | { int: number | bigint }
  | { float: number }
  | { ints: readonly (number | bigint)[] }
  | { floats: readonly number[] }
  | { string: string };
export type AttrValue = number | bigint | string | readonly number[] | Tensor | TypedAttr;

/** Helpers to force an attribute's type, e.g. `{ alpha: attr.float(1) }` (a bare `1` would be an INT). */
export const attr = {
  int: (v: number | bigint): TypedAttr => ({ int: v }),
  float: (v: number): TypedAttr => ({ float: v }),
  ints: (v: readonly (number | bigint)[]): TypedAttr => ({ ints: v }),
  floats: (v: readonly number[]): TypedAttr => ({ floats: v }),
  string: (v: string): TypedAttr => ({ string: v }),
};

// onnx.AttributeProto.AttributeType
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_TENSOR = 4;
const ATTR_FLOATS = 6;
const ATTR_INTS = 7;

export interface ModelOptions {
  /** Default-domain opset version (default 17). */
  opset?: number;
  /** ModelProto.ir_version (default 8, what onnx 1.13-1.14 writes for opset 17). */
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
}

interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
  name: string;
  domain?: string;
}

interface ValueSpec {
  name: string;
  dtype: DType;
  dims: Dim[] | null;
}

export class GraphBuilder {
  readonly name: string;
  private nodes: NodeSpec[] = [];
  private inits: [string, Tensor][] = [];
  private inputs: ValueSpec[] = [];
  private outputs: ValueSpec[] = [];
  private counter = 0;

  constructor(name: string) {
    this.name = name;
  }

  /** A graph input. `dims` null means unknown rank. */
  input(name: string, dtype: DType, dims: Dim[] | null): this {
    this.inputs.push({ name, dtype, dims });
    return this;
  }

  output(name: string, dtype: DType, dims: Dim[] | null): this {
    this.outputs.push({ name, dtype, dims });
    return this;
  }

  initializer(name: string, tensor: Tensor): this {
    this.inits.push([name, tensor]);
    return this;
  }

  /** A scalar or small constant as an initializer with a fresh name; returns the name. */
  constant(tensor: Tensor, hint = 'const'): string {
    const name = this.fresh(hint);
    this.initializer(name, tensor);
    return name;
  }

  /** A unique value name, for intermediate results. */
  fresh(hint: string): string {
    return `${hint}_${this.counter++}`;
  }

  node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}, opts: { name?: string; domain?: string } = {}): this {
    this.nodes.push({ opType, inputs, outputs, attrs, name: opts.name ?? `${opType}_${this.nodes.length}`, domain: opts.domain });
    return this;
  }

  /** One node with a single fresh output; returns the output's name (for chaining ops in code). */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outName?: string): string {
    const out = outName ?? this.fresh(opType.toLowerCase());
    this.node(opType, inputs, [out], attrs);
    return out;
  }

  /** GraphProto bytes. */
  toGraphProto(): Uint8Array {
    const g = new ProtoWriter();
    for (const n of this.nodes) g.message(1, encodeNode(n));
    g.string(2, this.name);
    for (const [name, t] of this.inits) g.message(5, encodeTensor(t, name));
    for (const v of this.inputs) g.message(11, encodeValueInfo(v));
    for (const v of this.outputs) g.message(12, encodeValueInfo(v));
    return g.finish();
  }

  /** ModelProto bytes, ready for onnxruntime or a model.onnx file. */
  toModel(opts: ModelOptions = {}): Uint8Array {
    const m = new ProtoWriter();
    m.int(1, opts.irVersion ?? 8);
    m.string(2, opts.producerName ?? 'evalpred');
    if (opts.producerVersion) m.string(3, opts.producerVersion);
    if (opts.docString) m.string(6, opts.docString);
    m.message(7, this.toGraphProto());
    // OperatorSetIdProto: domain '' (default) + version.
    m.message(8, new ProtoWriter().string(1, '').int(2, opts.opset ?? 17));
    return m.finish();
  }
}

/** TensorProto bytes: dims, data_type, name, raw_data (little-endian). */
export function encodeTensor(t: Tensor, name?: string): Uint8Array {
  const w = new ProtoWriter();
  for (const d of t.shape) w.int(1, d);
  w.int(2, ONNX_DATA_TYPE[t.dtype]);
  if (name !== undefined) w.string(8, name);
  w.lengthDelimited(9, rawLittleEndian(t));
  return w.finish();
}

/** The tensor's elements as little-endian bytes, whatever the host's byte order. */
function rawLittleEndian(t: Tensor): Uint8Array {
  const d = t.data;
  // On a little-endian host the bytes are already in order: one copy instead of a DataView call per element
  // (hundreds of millions for the BERT-base-shaped bench model, bench/realisticModels.ts).
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));
  const out = new Uint8Array(d.byteLength);
  const view = new DataView(out.buffer);
  const n = d.length;
  switch (t.dtype) {
    case 'float32':
      for (let i = 0; i < n; i++) view.setFloat32(i * 4, d[i] as number, true);
      break;
    case 'float64':
      for (let i = 0; i < n; i++) view.setFloat64(i * 8, d[i] as number, true);
      break;
    case 'int64':
      for (let i = 0; i < n; i++) view.setBigInt64(i * 8, d[i] as bigint, true);
      break;
    case 'int32':
      for (let i = 0; i < n; i++) view.setInt32(i * 4, d[i] as number, true);
      break;
    case 'int16':
      for (let i = 0; i < n; i++) view.setInt16(i * 2, d[i] as number, true);
      break;
    case 'float16':
      for (let i = 0; i < n; i++) view.setUint16(i * 2, d[i] as number, true);
      break;
    default: // one-byte types
      out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return out;
}

function encodeValueInfo(v: ValueSpec): Uint8Array {
  const tensorType = new ProtoWriter().int(1, ONNX_DATA_TYPE[v.dtype]);
  if (v.dims) {
    const shape = new ProtoWriter();
    for (const d of v.dims) {
      const dim = new ProtoWriter();
      if (typeof d === 'number') dim.int(1, d);
      else dim.string(2, d);
      shape.message(1, dim);
    }
    tensorType.message(2, shape);
  }
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, v.name).message(2, type).finish();
}

function encodeNode(n: NodeSpec): Uint8Array {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, value] of Object.entries(n.attrs)) w.message(5, encodeAttribute(name, value));
  if (n.domain !== undefined) w.string(7, n.domain);
  return w.finish();
}

function encodeAttribute(name: string, value: AttrValue): Uint8Array {
  const w = new ProtoWriter().string(1, name);
  const v = normaliseAttr(name, value);
  if ('int' in v) w.int(3, v.int).int(20, ATTR_INT);
  else if ('float' in v) w.float(2, v.float).int(20, ATTR_FLOAT);
  else if ('string' in v) w.string(4, v.string).int(20, ATTR_STRING);
  else if ('ints' in v) {
    for (const i of v.ints) w.int(8, i);
    w.int(20, ATTR_INTS);
  } else if ('floats' in v) {
    for (const f of v.floats) w.float(7, f);
    w.int(20, ATTR_FLOATS);
  } else {
    w.message(5, encodeTensor(v.tensor)).int(20, ATTR_TENSOR);
  }
  return w.finish();
}

function normaliseAttr(name: string, value: AttrValue): TypedAttr | { tensor: Tensor } {
  if (value instanceof Tensor) return { tensor: value };
  if (typeof value === 'bigint') return { int: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { int: value } : { float: value };
  if (typeof value === 'string') return { string: value };
  if (Array.isArray(value)) {
    const arr = value as readonly number[];
    return arr.every((x) => Number.isInteger(x)) ? { ints: arr } : { floats: arr };
  }
  if (typeof value === 'object' && value !== null) return value as TypedAttr;
  throw new TypeError(`attribute ${name}: unsupported value ${String(value)}`);
}
