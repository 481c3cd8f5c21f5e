// `npm run test:packaging`: builds every platform's .vsix (scripts/packageVsix.mjs --all) and opens each one.
// Per .vsix: the manifest's TargetPlatform is the one in its name; every native file in it (found by its magic
// bytes, whatever its name) is an executable for that OS and CPU (ELF e_machine, Mach-O cputype, PE Machine);
// the onnxruntime-node binding and the esbuild executable for that platform are there, and no other platform's;
// no sources, tests or source maps ship; and the packed dist/extension.js activates against a stub `vscode`
// without loading onnxruntime-node or esbuild — which is what failed on darwin, win32 and arm64 before
// (docs/packaging.md). The host's .vsix also loads its onnxruntime binding and runs its esbuild.
// Plain Node (no dependencies): a small zip reader below.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { hostTarget, supportedTargets, walkthroughMedia } from '../../scripts/packageVsix.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const vsixDir = process.env.EVALPRED_VSIX_DIR ?? path.join(root, 'dist-vsix');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

/** Entries of a zip file: name, unix mode and a function returning the uncompressed bytes. */
function readZip(file) {
  const buf = fs.readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  assert.ok(eocd >= 0, `${file}: no end-of-central-directory record, not a zip`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries = [];
  for (let n = 0; n < count; n++) {
    assert.equal(buf.readUInt32LE(p), 0x02014b50, `${file}: bad central directory entry`);
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const external = buf.readUInt32LE(p + 38);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    const data = () => {
      const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
      const raw = buf.subarray(start, start + csize);
      return method === 0 ? raw : zlib.inflateRawSync(raw);
    };
    entries.push({ name, mode: external >>> 16, data });
  }
  return entries;
}

const ELF_MACHINE = { x64: 0x3e, arm64: 0xb7 };
const MACHO_CPU = { x64: 0x01000007, arm64: 0x0100000c };
const PE_MACHINE = { x64: 0x8664, arm64: 0xaa64 };

/** { os, arch } of a native executable or library, from its header; null when the bytes are not one. */
export function nativeKind(b) {
  if (b.length < 64) return null;
  const archOf = (table, v) => Object.keys(table).find((k) => table[k] === v) ?? `unknown(0x${v.toString(16)})`;
  if (b.readUInt32BE(0) === 0x7f454c46) {
    const le = b[5] === 1;
    const machine = le ? b.readUInt16LE(18) : b.readUInt16BE(18);
    return { os: 'linux', arch: archOf(ELF_MACHINE, machine), bits: b[4] === 2 ? 64 : 32 };
  }
  const m = b.readUInt32LE(0);
  if (m === 0xfeedfacf || m === 0xfeedface) return { os: 'darwin', arch: archOf(MACHO_CPU, b.readUInt32LE(4)), bits: m === 0xfeedfacf ? 64 : 32 };
  if (b.readUInt32BE(0) === 0xcafebabe && b.readUInt32BE(4) < 30) {
    // Universal (fat) Mach-O: every slice must be the target's arch, so report a mixed one as such.
    const archs = [...Array(b.readUInt32BE(4)).keys()].map((i) => archOf(MACHO_CPU, b.readUInt32BE(8 + i * 20)));
    return { os: 'darwin', arch: [...new Set(archs)].join('+'), bits: 64 };
  }
  if (b[0] === 0x4d && b[1] === 0x5a) {
    const pe = b.readUInt32LE(0x3c);
    if (pe + 6 <= b.length && b.readUInt32BE(pe) === 0x50450000) return { os: 'win32', arch: archOf(PE_MACHINE, b.readUInt16LE(pe + 4)), bits: 64 };
  }
  return null;
}

test('the header reader tells the OS and CPU of this machine\'s own node executable', () => {
  const kind = nativeKind(fs.readFileSync(process.execPath));
  assert.deepEqual(kind && { os: kind.os, arch: kind.arch }, { os: process.platform, arch: process.arch });
  assert.equal(nativeKind(Buffer.from('#!/usr/bin/env node\n' + 'x'.repeat(80))), null);
});

const targets = supportedTargets();

test('one .vsix per platform onnxruntime-node ships a binding for', () => {
  for (const t of ['linux-x64', 'linux-arm64', 'darwin-arm64', 'win32-x64', 'win32-arm64']) assert.ok(targets.includes(t), t);
  for (const t of targets) assert.ok(fs.existsSync(path.join(vsixDir, `evalpred-${t}.vsix`)), `dist-vsix/evalpred-${t}.vsix is missing: run npm run package:all`);
});

/** The vscode stub (test/helpers/vscodeStub.ts), built once with esbuild into a temporary CommonJS file. */
let stubModule;
async function loadStub(tmp) {
  if (stubModule) return stubModule;
  const esbuild = await import('esbuild');
  const out = path.join(tmp, 'vscodeStub.cjs');
  await esbuild.build({ entryPoints: [path.join(root, 'test/helpers/vscodeStub.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'warning' });
  return (stubModule = createRequire(import.meta.url)(out));
}

for (const target of targets) {
  test(`evalpred-${target}.vsix: target platform, native files, contents, activation`, async () => {
    const [platform, arch] = target.split('-');
    const entries = readZip(path.join(vsixDir, `evalpred-${target}.vsix`));
    const byName = new Map(entries.map((e) => [e.name, e]));

    const manifest = byName.get('extension.vsixmanifest').data().toString('utf8');
    assert.match(manifest, new RegExp(`<Identity [^>]*TargetPlatform="${target}"`), 'TargetPlatform in extension.vsixmanifest');
    const shipped = JSON.parse(byName.get('extension/package.json').data().toString('utf8'));
    assert.deepEqual(shipped.extensionKind, ['workspace']);
    assert.equal(shipped.version, pkg.version);
    for (const f of ['extension/LICENSE.txt', 'extension/changelog.md', 'extension/readme.md', `extension/${pkg.icon}`, 'extension/dist/extension.js', 'extension/dist/extensionCore.js', 'extension/dist/debugAdapter.js', 'extension/dist/cli.js', 'extension/src/python/evalpred_worker.py']) {
      assert.ok(byName.has(f), `${f} is missing`);
    }
    // The Get Started walkthrough's pages and images (scripts/packageVsix.mjs walkthroughMedia).
    for (const f of walkthroughMedia(pkg)) assert.ok(byName.has(`extension/${f}`), `walkthrough file ${f} is missing`);

    // Every native file, wherever it is: the target's OS and CPU, 64-bit.
    const natives = [];
    for (const e of entries) {
      const head = e.data().subarray(0, 4096);
      const kind = nativeKind(head);
      if (!kind) continue;
      natives.push(e.name);
      assert.deepEqual({ os: kind.os, arch: kind.arch, bits: kind.bits }, { os: platform, arch, bits: 64 }, `${e.name} is a ${kind.os}/${kind.arch} binary in the ${target} package`);
    }
    const ortDir = `extension/dist/node_modules/onnxruntime-node/bin/napi-v6/${platform}/${arch}/`;
    const esbuildBin = `extension/dist/node_modules/@esbuild/${target}/${platform === 'win32' ? 'esbuild.exe' : 'bin/esbuild'}`;
    assert.ok(natives.includes(`${ortDir}onnxruntime_binding.node`), `${ortDir}onnxruntime_binding.node`);
    assert.ok(natives.some((n) => n.startsWith(ortDir) && /onnxruntime\.dll$|libonnxruntime\.so\.1$|libonnxruntime\.1\.dylib$/.test(n)), 'the ONNX Runtime library beside the binding');
    assert.ok(natives.includes(esbuildBin), esbuildBin);
    if (platform !== 'win32') assert.ok(byName.get(esbuildBin).mode & 0o100, 'the esbuild executable keeps its x bit');
    for (const n of natives) assert.ok(n.startsWith(ortDir) || n === esbuildBin, `unexpected native file ${n}`);
    // Nothing for another platform, and nothing of the checkout that is not needed at run time.
    for (const e of entries) {
      assert.ok(!e.name.includes('/napi-v6/') || e.name.startsWith(ortDir), `another platform's binding: ${e.name}`);
      assert.ok(!/@esbuild\//.test(e.name) || e.name.startsWith(`extension/dist/node_modules/@esbuild/${target}/`), `another platform's esbuild: ${e.name}`);
      assert.ok(!/^extension\/(test|bench|scripts|docs|out|node_modules)\//.test(e.name), `checkout file ${e.name}`);
      assert.ok(!/^extension\/src\/(?!python\/)/.test(e.name) && !/\.(ts|map)$/.test(e.name) && !/__pycache__/.test(e.name), `source file ${e.name}`);
    }

    // Activate the packed extension.js in plain Node against a stub vscode: it must not need the (foreign) natives.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `evalpred-vsix-${target}-`));
    try {
      for (const e of entries) {
        if (!e.name.startsWith('extension/') || e.name.endsWith('/')) continue;
        const dest = path.join(tmp, e.name);
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        fs.writeFileSync(dest, e.data(), { mode: e.mode & 0o777 || 0o644 });
      }
      const ext = path.join(tmp, 'extension');
      const { vscodeStub, fakeContext, withVscodeStub } = await loadStub(tmp);
      const registered = [];
      const requests = withVscodeStub(vscodeStub(root, registered), (reqs) => {
        const mod = createRequire(path.join(ext, 'package.json'))('./dist/extension.js');
        mod.activate(fakeContext(ext, shipped));
        return reqs;
      });
      assert.deepEqual(registered.sort(), shipped.contributes.commands.map((c) => c.command).sort(), 'every command registered');
      assert.deepEqual(requests.filter((r) => /onnxruntime|esbuild|\.node$|extensionCore/.test(r)), [], 'activation loaded native modules or src/core');
      if (target === hostTarget()) {
        // The host can run its own natives: the binding loads from the packed layout and esbuild's binary answers.
        const req = createRequire(path.join(ext, 'dist', 'extension.js'));
        const ort = req('onnxruntime-node');
        assert.ok(ort.listSupportedBackends().some((b) => b.name === 'cpu'), 'onnxruntime CPU backend');
        const t = new ort.Tensor('float32', new Float32Array([1, 2]), [2]);
        assert.deepEqual([...t.dims], [2]);
        const eb = req('esbuild');
        assert.ok(req.resolve('esbuild').startsWith(ext), 'esbuild resolves inside the package');
        const out = await eb.transform('const x: number = 1; export default x', { loader: 'ts', format: 'cjs' });
        assert.match(out.code, /x = 1/);
        await eb.stop?.();
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
}
