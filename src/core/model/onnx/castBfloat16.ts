// bfloat16 graph outputs, which onnxruntime-node cannot hand to JS: a Cast to float32 is appended after each,
// as Trainer converts bfloat16 logits to float32 before accumulating (docs/trainer-semantics.md).
import { ProtoField, ProtoWriter, readFields } from './protobuf';

const BFLOAT16 = 16;
const FLOAT = 1;

/**
 * The model with a Cast(to=float32) after every bfloat16 graph output (the producer's output is renamed
 * `<name>__bf16`), or null when there is none or one has no producing node. Fields are copied byte for byte.
 */
export function castBfloat16Outputs(buf: Uint8Array): { model: Uint8Array; outputs: string[] } | null {
  const str = (f: ProtoField) => Buffer.from(buf.buffer, buf.byteOffset + f.start, f.end - f.start).toString('utf8');
  const raw = (f: ProtoField) => buf.subarray(f.rawStart, f.end);
  const top = readFields(buf, 0, buf.length);
  const graph = top.find((f) => f.no === 7 && f.wire === 2);
  if (!graph) return null;
  const gf = readFields(buf, graph.start, graph.end);
  const elemType = (vi: ProtoField): { type: number; tensorType: ProtoField } | null => {
    const t = readFields(buf, vi.start, vi.end).find((f) => f.no === 2 && f.wire === 2);
    const tt = t && readFields(buf, t.start, t.end).find((f) => f.no === 1 && f.wire === 2);
    const et = tt && readFields(buf, tt.start, tt.end).find((f) => f.no === 1 && f.wire === 0);
    return tt && et ? { type: et.value, tensorType: tt } : null;
  };
  const bf16 = new Set<string>();
  for (const f of gf) {
    if (f.no !== 12 || f.wire !== 2) continue;
    const name = readFields(buf, f.start, f.end).find((x) => x.no === 1 && x.wire === 2);
    if (name && elemType(f)?.type === BFLOAT16) bf16.add(str(name));
  }
  if (!bf16.size) return null;
  const produced = new Set<string>();
  const parts: Uint8Array[] = [];
  for (const f of gf) {
    if (f.no === 1 && f.wire === 2) {
      const nf = readFields(buf, f.start, f.end);
      if (!nf.some((x) => x.no === 2 && x.wire === 2 && bf16.has(str(x)))) {
        parts.push(raw(f));
        continue;
      }
      const node = new ProtoWriter();
      for (const x of nf) {
        if (x.no === 2 && x.wire === 2 && bf16.has(str(x))) {
          produced.add(str(x));
          node.string(2, `${str(x)}__bf16`);
        } else node.raw(raw(x));
      }
      parts.push(new ProtoWriter().lengthDelimited(1, node.finish()).finish());
    } else if (f.no === 12 && f.wire === 2 && elemType(f)?.type === BFLOAT16) {
      const vi = new ProtoWriter();
      for (const x of readFields(buf, f.start, f.end)) {
        if (x.no !== 2) {
          vi.raw(raw(x));
          continue;
        }
        const tensorType = new ProtoWriter().int(1, FLOAT);
        for (const y of readFields(buf, elemType(f)!.tensorType.start, elemType(f)!.tensorType.end)) if (y.no !== 1) tensorType.raw(raw(y));
        vi.lengthDelimited(2, new ProtoWriter().lengthDelimited(1, tensorType.finish()).finish());
      }
      parts.push(new ProtoWriter().lengthDelimited(12, vi.finish()).finish());
    } else parts.push(raw(f));
  }
  if (produced.size !== bf16.size) return null;
  for (const name of bf16) {
    const attribute = new ProtoWriter().string(1, 'to').int(3, FLOAT).int(20, 2).finish(); // AttributeProto INT
    const node = new ProtoWriter().string(1, `${name}__bf16`).string(2, name).string(3, `evalpred_cast_${name}`).string(4, 'Cast').lengthDelimited(5, attribute);
    parts.push(new ProtoWriter().lengthDelimited(1, node.finish()).finish());
  }
  const model = new ProtoWriter();
  for (const f of top) model.raw(f === graph ? new ProtoWriter().lengthDelimited(7, concat(parts)).finish() : raw(f));
  return { model: model.finish(), outputs: [...bf16] };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
