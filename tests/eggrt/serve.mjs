// Serves ONE Egg app on 127.0.0.1 for the live-probe tests (tests/eggrt/server.py).
//
// Single process: `egg.start({baseDir, env})` wrapped in `http.createServer(app.callback())`,
// the fastest start (egg-facts §7). Listening on port 0 lets the kernel pick a free port, so
// there is no race between choosing a port and binding it; the port is printed once ready.
// SIGTERM/SIGINT close the app (and its agent) and exit.
//
// Usage: node serve.mjs <major> <baseDir> <env or "">
// This file is copied next to a node_modules link to the runtime, so bare 'egg' resolves there.
import http from 'node:http';
import { createRequire } from 'node:module';

const MARK = '@@EGGSERVE@@ ';
const [, , major, baseDir, env] = process.argv;

const require = createRequire(import.meta.url);
const egg = major === '3' ? require('egg') : await import('egg');

function emit(obj) {
  process.stdout.write(MARK + JSON.stringify(obj) + '\n');
}

let app;
let server;
async function shutdown(code) {
  const timer = setTimeout(() => process.exit(code), 5000);
  try {
    if (server) await new Promise(resolve => server.close(resolve));
    if (app) await app.close();
  } catch {
    // closing is best effort: the process exits either way
  }
  clearTimeout(timer);
  process.exit(code);
}
process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));

try {
  const options = { baseDir, ignoreWarning: true };
  if (env) options.env = env;
  app = await egg.start(options);
  server = http.createServer(app.callback());
  // keep-alive sockets must not hold the close above for Node's default 5 s
  server.keepAliveTimeout = 1000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  emit({ ok: true, port: server.address().port, env: app.config.env });
} catch (err) {
  emit({ ok: false, error: String((err && err.stack) || err) });
  await shutdown(1);
}
