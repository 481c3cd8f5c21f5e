// The debug adapter executable (dist/debugAdapter.js): DAP over stdin/stdout, or `--server=PORT` to
// serve sessions on 127.0.0.1 so the adapter itself can be debugged (as mock-debug's debugAdapter.ts).
import net from 'node:net';
import { EvalpredSession } from './session';

const portArg = process.argv.slice(2).find((a) => a.startsWith('--server='));
if (portArg) {
  const port = Number(portArg.slice('--server='.length));
  const server = net.createServer((socket) => {
    const session = new EvalpredSession();
    session.setRunAsServer(true);
    session.start(socket, socket);
  });
  // `--server=0` picks a free port: report the one actually bound (tests read it from this line).
  server.listen(port, '127.0.0.1', () => process.stderr.write(`evalpred debug adapter listening on 127.0.0.1:${(server.address() as net.AddressInfo).port}\n`));
} else {
  const session = new EvalpredSession();
  process.on('SIGTERM', () => session.shutdown());
  session.start(process.stdin, process.stdout);
}
