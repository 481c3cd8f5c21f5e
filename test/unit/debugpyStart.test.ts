// debugpy as the Python metric worker starts it (src/python/evalpred/_debugpy.py), checked inside the worker's
// interpreter: the connection pydevd accepts sends each message at once (TCP_NODELAY). pydevd writes a DAP
// message as a header and a body; with Nagle's algorithm the body waited for the client's delayed ACK (~40 ms
// on Linux) on every answer, the attach handshake's and each evaluate in a paused frame (bench/pythonDebug.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { pythonWith } from '../helpers/python';

const srcPython = path.join(__dirname, '../../../src/python');

test('the debugpy connection the worker accepts has TCP_NODELAY, and the start-up marks are in time order', () => {
  const out = execFileSync(
    pythonWith(['numpy', 'debugpy']),
    [
      '-c',
      `import json, socket, sys, time
from evalpred import _debugpy
marks = {}
port, why = _debugpy.start(marks)
assert port is not None, why
client = socket.create_connection(("127.0.0.1", port))
import pydevd
db = pydevd.get_global_debugger()
deadline = time.time() + 20
# Until pydevd has accepted the connection its writer is a Null placeholder, not a socket.
while not isinstance(getattr(getattr(db, "writer", None), "sock", None), socket.socket) and time.time() < deadline:
    time.sleep(0.01)
sock = db.writer.sock
print(json.dumps({"nodelay": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY), "marks": marks}))
client.close()
`,
    ],
    { encoding: 'utf8', env: { ...process.env, PYTHONPATH: srcPython }, timeout: 60_000 },
  );
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as { nodelay: number; marks: Record<string, number> };
  assert.notEqual(r.nodelay, 0, 'TCP_NODELAY is set on the accepted connection');
  const names = Object.keys(r.marks);
  assert.deepEqual(names, ['debugpy imported', 'debugpy listening', 'array summaries registered']);
  const times = Object.values(r.marks);
  assert.ok(times.every((t, k) => k === 0 || t >= times[k - 1]), `marks in order: ${JSON.stringify(r.marks)}`);
  assert.ok(Math.abs(times[0] - Date.now()) < 120_000, 'marks are wall-clock milliseconds');
});
