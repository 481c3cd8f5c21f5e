// The bundle source map decoder of the TS/JS debugger (src/debug/node/sourceMap.ts), checked against Node's own
// module.SourceMap on a real esbuild bundle: every mapping we decode is one Node finds at the same position,
// a breakpoint line lands on code of that line (or the next line with code), and the foreign ranges cover
// the imported library but not the user's lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SourceMap } from 'node:module';
import * as esbuild from 'esbuild';
import { BundleMap, decodeMappings } from '../../src/debug/node/sourceMap';
import { tempDir } from '../fixtures/workspace';

const USER = `import { helper } from './lib/helper';

// a comment
export function computeMetrics(p: { n: number }) {
  const a = helper(p.n);

  const b = a * 2; /* trailing */
  return { a, b };
}
`;
const LIB = `export function helper(x: number): number {
  let y = 0;
  for (let i = 0; i < x; i++) y += i;
  return y;
}
`;

test('decoded mappings agree with node:module SourceMap; breakpoint lines move down to code; foreign ranges hold the library', () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, 'metrics.ts');
    fs.writeFileSync(file, USER);
    fs.mkdirSync(path.join(dir, 'lib'));
    const lib = path.join(dir, 'lib', 'helper.ts');
    fs.writeFileSync(lib, LIB);
    const outfile = path.join(dir, '.metrics.ts.evalpred-bundle.js');
    const r = esbuild.buildSync({ entryPoints: [file], bundle: true, platform: 'node', format: 'cjs', sourcemap: 'inline', sourcesContent: false, write: false, outfile, absWorkingDir: dir });
    const code = r.outputFiles[0].text;
    const map = BundleMap.fromBundle(code, outfile);
    assert.ok(map);
    assert.deepEqual([...map.sources].sort(), [lib, file].sort());
    const payload = JSON.parse(Buffer.from(/base64,(.*)$/m.exec(code)![1], 'base64').toString('utf8'));
    const node = new SourceMap(payload);
    const ours = decodeMappings(payload.mappings).filter((m) => m.source >= 0);
    assert.ok(ours.length > 10);
    for (const m of ours) {
      const e = node.findEntry(m.genLine, m.genColumn) as { originalLine: number; originalColumn: number; originalSource: string };
      assert.equal(e.originalLine, m.line, `line at ${m.genLine}:${m.genColumn}`);
      assert.equal(e.originalColumn, m.column);
      assert.ok(e.originalSource.endsWith(path.basename(map.sources[m.source])));
      assert.deepEqual(map.originalFor(m.genLine, m.genColumn), { source: m.source, line: m.line, column: m.column });
    }
    const user = map.sourceIndex(file);
    // Line 5 (0-based 4) has code; line 6 is blank and line 3 a comment: they move to 7 and 4.
    assert.equal(map.generatedFor(user, 4)?.line, 4);
    assert.equal(map.generatedFor(user, 5)?.line, 6);
    assert.equal(map.generatedFor(user, 2)?.line, 3);
    assert.equal(map.generatedFor(user, 40), undefined, 'no code after the end');
    const at = map.generatedFor(user, 6)!;
    assert.match(code.split('\n')[at.genLine].slice(at.genColumn), /^\s*const b = a \* 2/);
    // Foreign ranges: alternating start/end, strictly increasing; the library's code is inside one, the user's is not.
    const ranges = map.foreignRanges((s) => map.sources[s] === file);
    assert.equal(ranges.length % 2, 0);
    const key = (p: { lineNumber: number; columnNumber: number }) => p.lineNumber * 1e6 + p.columnNumber;
    for (let k = 1; k < ranges.length; k++) assert.ok(key(ranges[k]) > key(ranges[k - 1]), 'strictly increasing');
    const inForeign = (line: number, col: number) => {
      for (let k = 0; k < ranges.length; k += 2) if (key({ lineNumber: line, columnNumber: col }) >= key(ranges[k]) && key({ lineNumber: line, columnNumber: col }) < key(ranges[k + 1])) return true;
      return false;
    };
    const libIndex = map.sourceIndex(lib);
    const libAt = map.generatedFor(libIndex, 2)!;
    assert.equal(inForeign(libAt.genLine, libAt.genColumn), true, 'the library loop is foreign');
    assert.equal(inForeign(at.genLine, at.genColumn), false, 'the user\'s line is not');
    assert.equal(BundleMap.fromBundle('exports.x = 1;\n', outfile), undefined, 'no inline map: none');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
