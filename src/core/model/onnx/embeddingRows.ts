// The word-embedding size of an ONNX graph, read from its protobuf: the vocabulary bound for input ids when
// config.json has no vocab_size (src/core/model/session.ts resolveVocab).
import fs from 'node:fs';
import { readFields, readVarint } from './protobuf';

const MAX_SCAN_BYTES = 1 << 30;

/** Rows of the initializer that a Gather indexes with input_ids (the word embedding), read from the protobuf. */
export function embeddingRows(file: string): number | null {
  if (fs.statSync(file).size > MAX_SCAN_BYTES) return null;
  const buf = fs.readFileSync(file);
  const graph = readFields(buf, 0, buf.length).find((f) => f.no === 7 && f.wire === 2);
  if (!graph) return null;
  const initDims = new Map<string, number[]>();
  let embeddingName: string | null = null;
  for (const f of readFields(buf, graph.start, graph.end)) {
    if (f.wire !== 2) continue;
    if (f.no === 5) {
      let name = '';
      const dims: number[] = [];
      for (const t of readFields(buf, f.start, f.end)) {
        if (t.no === 8 && t.wire === 2) name = buf.toString('utf8', t.start, t.end);
        else if (t.no === 1 && t.wire === 0) dims.push(t.value);
        else if (t.no === 1 && t.wire === 2) for (let p = t.start; p < t.end; ) [dims[dims.length], p] = readVarint(buf, p);
      }
      initDims.set(name, dims);
    } else if (f.no === 1 && embeddingName === null) {
      const inputs: string[] = [];
      let op = '';
      for (const n of readFields(buf, f.start, f.end)) {
        if (n.no === 1 && n.wire === 2) inputs.push(buf.toString('utf8', n.start, n.end));
        else if (n.no === 4 && n.wire === 2) op = buf.toString('utf8', n.start, n.end);
      }
      if (op === 'Gather' && inputs[1] === 'input_ids') embeddingName = inputs[0];
    }
  }
  const dims = embeddingName !== null ? initDims.get(embeddingName) : undefined;
  return dims && dims.length === 2 ? dims[0] : null;
}
