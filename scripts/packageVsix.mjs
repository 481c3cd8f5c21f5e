// Platform-specific .vsix files (`vsce package --target`), built from this machine for every platform
// onnxruntime-node ships a binding for. Each carries that platform's onnxruntime-node binding and ONNX Runtime
// library and that platform's esbuild executable, and nothing for any other platform (docs/packaging.md).
//
//   node scripts/packageVsix.mjs                 the host's platform  -> dist-vsix/evalpred-<platform>-<arch>.vsix
//   node scripts/packageVsix.mjs --all           every platform       -> dist-vsix/
//   node scripts/packageVsix.mjs --target linux-x64 [--out DIR] [--no-build]
//
// How: one production build of dist/, then per target a staging folder out/vsix/<target>/ holding package.json,
// README, LICENSE, CHANGELOG, the icon, dist/ and src/python/, with the native packages under
// dist/node_modules/ (Node resolves `require('onnxruntime-node')` from dist/*.js there first). vsce runs there
// with --no-dependencies, so it packs exactly the staged files. An @esbuild/<target> package that npm did not
// install on this machine is fetched with `npm pack` from the npm registry, and its binary is checked against
// the sha256 that the esbuild package itself lists ("esbuild.binaryHashes").
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nm = path.join(root, 'node_modules');
const ortBin = path.join(nm, 'onnxruntime-node', 'bin', 'napi-v6');

/** `<platform>-<arch>` for every binding onnxruntime-node ships (1.30: no darwin-x64). Names match VS Code's targets. */
export function supportedTargets() {
  return fs.readdirSync(ortBin).flatMap((p) => fs.readdirSync(path.join(ortBin, p)).map((a) => `${p}-${a}`)).sort();
}

export function hostTarget() {
  return `${process.platform}-${process.arch}`;
}

function copy(src, dst, filter = () => true) {
  fs.cpSync(src, dst, { recursive: true, filter: (s) => filter(path.relative(src, s)) });
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** The @esbuild/<target> package folder, from node_modules when npm installed it here, else `npm pack`ed once. */
function esbuildPlatformPackage(target, cacheDir) {
  const version = readJson(path.join(nm, 'esbuild', 'package.json')).version;
  const name = `@esbuild/${target}`;
  const local = path.join(nm, '@esbuild', target);
  if (fs.existsSync(local) && readJson(path.join(local, 'package.json')).version === version) return { dir: local, version };
  const dir = path.join(cacheDir, `${target}-${version}`, 'package');
  if (!fs.existsSync(path.join(dir, 'package.json'))) {
    const tmp = path.join(cacheDir, `${target}-${version}`);
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    const out = execFileSync('npm', ['pack', `${name}@${version}`, '--pack-destination', tmp, '--silent'], { cwd: tmp, encoding: 'utf8' }).trim().split('\n').pop();
    execFileSync('tar', ['-xzf', path.join(tmp, out)], { cwd: tmp });
  }
  return { dir, version };
}

/** The esbuild executable inside an @esbuild/<target> package, checked against esbuild's own list of hashes. */
function checkEsbuildBinary(target, dir) {
  const sub = target.startsWith('win32') ? 'esbuild.exe' : 'bin/esbuild';
  const file = path.join(dir, sub);
  const hashes = readJson(path.join(nm, 'esbuild', 'package.json'))['esbuild.binaryHashes'] ?? {};
  const want = hashes[`@esbuild/${target}/${sub}`];
  if (!want) throw new Error(`esbuild's package.json lists no hash for @esbuild/${target}/${sub}`);
  const got = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  if (got !== want) throw new Error(`@esbuild/${target}/${sub}: sha256 ${got} is not the ${want} that esbuild lists`);
}

/** Files the Get Started walkthrough shows: each step's media, and the images its markdown links to. */
export function walkthroughMedia(pkg) {
  const files = new Set();
  for (const w of pkg.contributes?.walkthroughs ?? []) {
    for (const step of w.steps) {
      const m = step.media ?? {};
      for (const f of [m.markdown, m.svg, typeof m.image === 'string' ? m.image : undefined]) if (f) files.add(f);
      if (m.markdown) {
        const text = fs.readFileSync(path.join(root, m.markdown), 'utf8');
        for (const [, link] of text.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)) files.add(path.posix.join(path.posix.dirname(m.markdown), link));
      }
    }
  }
  return [...files];
}

function stage(target, stageDir, cacheDir) {
  const [platform, arch] = target.split('-');
  fs.rmSync(stageDir, { recursive: true, force: true });
  fs.mkdirSync(stageDir, { recursive: true });
  const pkg = readJson(path.join(root, 'package.json'));
  // The staged manifest: no scripts (vsce would run vscode:prepublish again), no devDependencies.
  delete pkg.scripts;
  delete pkg.devDependencies;
  fs.writeFileSync(path.join(stageDir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  for (const f of ['README.md', 'LICENSE', 'CHANGELOG.md', '.vscodeignore']) fs.copyFileSync(path.join(root, f), path.join(stageDir, f));
  if (pkg.icon) {
    fs.mkdirSync(path.dirname(path.join(stageDir, pkg.icon)), { recursive: true });
    fs.copyFileSync(path.join(root, pkg.icon), path.join(stageDir, pkg.icon));
  }
  // The walkthrough's pages and the images they show (package.json contributes.walkthroughs, .vscodeignore).
  for (const f of walkthroughMedia(pkg)) {
    fs.mkdirSync(path.dirname(path.join(stageDir, f)), { recursive: true });
    fs.copyFileSync(path.join(root, f), path.join(stageDir, f));
  }
  copy(path.join(root, 'dist'), path.join(stageDir, 'dist'), (rel) => !rel.endsWith('.map') && !rel.startsWith('node_modules'));
  copy(path.join(root, 'src', 'python'), path.join(stageDir, 'src', 'python'), (rel) => !rel.includes('__pycache__'));

  const mods = path.join(stageDir, 'dist', 'node_modules');
  // onnxruntime-node: its JS, and bin/napi-v6/<platform>/<arch>/ only. Its install script and the packages that
  // script needs (adm-zip, global-agent: GPU binary downloads) are not needed at run time.
  const ortSrc = path.join(nm, 'onnxruntime-node');
  copy(ortSrc, path.join(mods, 'onnxruntime-node'), (rel) =>
    rel === '' || rel === 'package.json' || /^(dist|LICENSE)/.test(rel) || rel === 'bin' || rel === path.join('bin', 'napi-v6') ||
    rel === path.join('bin', 'napi-v6', platform) || rel.startsWith(path.join('bin', 'napi-v6', platform, arch)),
  );
  copy(path.join(nm, 'onnxruntime-common'), path.join(mods, 'onnxruntime-common'), (rel) => rel === '' || rel === 'package.json' || /^(LICENSE|dist(\/cjs)?$|dist\/cjs\/)/.test(rel.split(path.sep).join('/')));
  // esbuild: the JS API (lib/main.js finds @esbuild/<target> beside it); its bin/ is a copy of the host's binary.
  copy(path.join(nm, 'esbuild'), path.join(mods, 'esbuild'), (rel) => rel === '' || rel === 'package.json' || /^(lib|LICENSE)/.test(rel));
  const eb = esbuildPlatformPackage(target, cacheDir);
  checkEsbuildBinary(target, eb.dir);
  copy(eb.dir, path.join(mods, '@esbuild', target), (rel) => rel !== 'README.md');
}

function vsce(stageDir, target, out) {
  const bin = path.join(nm, '@vscode', 'vsce', 'vsce');
  execFileSync(process.execPath, [bin, 'package', '--target', target, '--no-dependencies', '-o', out], { cwd: stageDir, stdio: ['ignore', 'inherit', 'inherit'] });
}

export function packageTargets(targets, { outDir = path.join(root, 'dist-vsix'), build = true } = {}) {
  const known = supportedTargets();
  for (const t of targets) {
    if (!known.includes(t)) throw new Error(`no onnxruntime-node binding for ${t}: this version ships ${known.join(', ')}`);
  }
  if (build) execFileSync(process.execPath, [path.join(root, 'esbuild.mjs'), '--production'], { cwd: root, stdio: 'inherit' });
  fs.mkdirSync(outDir, { recursive: true });
  const cacheDir = path.join(root, 'out', 'npm-pack');
  const made = [];
  for (const t of targets) {
    const stageDir = path.join(root, 'out', 'vsix', t);
    stage(t, stageDir, cacheDir);
    const out = path.join(outDir, `evalpred-${t}.vsix`);
    vsce(stageDir, t, out);
    made.push(out);
  }
  return made;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  if (argv.includes('--refuse-direct-vsce')) {
    // package.json's vscode:prepublish: a plain `vsce package` in a checkout would pack no native modules.
    console.error('evalpred: build .vsix files with `npm run package` (this platform) or `npm run package:all` (every platform): they stage the platform\'s onnxruntime-node and esbuild binaries (docs/packaging.md).');
    process.exit(1);
  }
  const opt = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const targets = argv.includes('--all') ? supportedTargets() : [opt('--target') ?? hostTarget()];
  const out = opt('--out');
  const made = packageTargets(targets, { outDir: out ? path.resolve(out) : undefined, build: !argv.includes('--no-build') });
  for (const f of made) console.log(path.relative(process.cwd(), f));
}
