// Installs code-server 4.100.3 (VS Code 1.100.3, the last line that runs on Node 20) into a cache folder
// outside the repo, following docs/testing.md#the-end-to-end-test-in-a-real-vs-code: seed @vscode/ripgrep's download cache with
// the system `rg` (its postinstall would otherwise ask api.github.com), and set npm_config_yes so node-pty's
// `npx node-gyp` does not stop at a prompt. A finished install is marked by a stamp file, so a failed or
// interrupted one is redone rather than half-used.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CODE_SERVER_VERSION = '4.100.3';
const RIPGREP_PKG = '1.15.11'; // @vscode/ripgrep version pinned by code-server 4.100.3
const RIPGREP_TAG = 'v13.0.0-10';

export function cacheRoot() {
  return process.env.EVALPRED_E2E_CACHE || path.join(os.homedir(), '.cache', 'evalpred-e2e');
}

/** Returns the code-server executable, installing it first when the cache does not hold it yet. */
export function ensureCodeServer(log = (m) => process.stderr.write(m + '\n')) {
  const dir = path.join(cacheRoot(), `code-server-${CODE_SERVER_VERSION}`);
  const bin = path.join(dir, 'node_modules', '.bin', 'code-server');
  const stamp = path.join(dir, '.installed');
  if (fs.existsSync(stamp) && fs.existsSync(bin)) return bin;

  const rg = findOnPath('rg');
  if (!rg) throw new Error('code-server install needs ripgrep (`rg`) on PATH: apt-get install ripgrep');
  // kerberos (a code-server dependency) compiles against the GSSAPI headers; without them npm fails late.
  if (!fs.existsSync('/usr/include/gssapi/gssapi.h')) {
    throw new Error('code-server install needs the Kerberos headers: apt-get install -y libkrb5-dev build-essential python3');
  }
  const rgCache = path.join(os.tmpdir(), `vscode-ripgrep-cache-${RIPGREP_PKG}`);
  const tarball = path.join(rgCache, `ripgrep-${RIPGREP_TAG}-x86_64-unknown-linux-musl.tar.gz`);
  if (!fs.existsSync(tarball)) {
    const pack = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-rgpack-'));
    fs.copyFileSync(rg, path.join(pack, 'rg'));
    fs.chmodSync(path.join(pack, 'rg'), 0o755);
    fs.mkdirSync(rgCache, { recursive: true });
    execFileSync('tar', ['czf', tarball, '-C', pack, 'rg']);
    fs.rmSync(pack, { recursive: true, force: true });
  }

  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), '{"private":true}\n');
  log(`e2e: installing code-server ${CODE_SERVER_VERSION} into ${dir} (a minute or more, once)`);
  // node-gyp builds node-pty, spdlog, kerberos… against the running node's headers. Point it at the local
  // ones (the nodesource .deb ships <prefix>/include/node) so it never downloads them from nodejs.org.
  const env = { ...process.env, npm_config_yes: 'true' };
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (!env.npm_config_nodedir && !env.NPM_CONFIG_NODEDIR && fs.existsSync(path.join(prefix, 'include', 'node', 'node.h'))) env.npm_config_nodedir = prefix;
  execFileSync('npm', ['install', '--unsafe-perm', '--no-audit', '--no-fund', '--no-save', `code-server@${CODE_SERVER_VERSION}`], {
    cwd: dir,
    stdio: ['ignore', 'inherit', 'inherit'],
    env,
  });
  if (!fs.existsSync(bin)) throw new Error(`code-server install finished but ${bin} is missing`);
  fs.writeFileSync(stamp, new Date().toISOString() + '\n');
  return bin;
}

function findOnPath(name) {
  for (const d of (process.env.PATH || '').split(path.delimiter)) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(ensureCodeServer());
}
