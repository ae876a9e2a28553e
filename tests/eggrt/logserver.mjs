// Starts ONE Egg app single-process (`egg.start`) behind a plain http server on an ephemeral
// loopback port, prints `@@EGGRT@@ {"port": N}` and serves until SIGTERM, then closes the app
// (which flushes Egg's buffered loggers) and exits. Used by tests/eggrt/logserver.py.
//
// Usage: node logserver.mjs <major> <baseDir> <env>
import http from 'node:http';
import { createRequire } from 'node:module';

const MARK = '@@EGGRT@@ ';
const [, , major, baseDir, env] = process.argv;
const require = createRequire(import.meta.url);
const egg = major === '3' ? require('egg') : await import('egg');

function emit(obj) {
  process.stdout.write(MARK + JSON.stringify(obj) + '\n');
}

let app;
try {
  app = await egg.start({ baseDir, env, ignoreWarning: true });
} catch (err) {
  emit({ ok: false, error: String(err && err.stack || err) });
  process.exit(1);
}
const server = http.createServer(app.callback());
server.listen(0, '127.0.0.1', () => emit({ ok: true, port: server.address().port }));

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  server.close();
  const timer = setTimeout(() => process.exit(0), 5000);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
    emit({ closed: true });
    process.exit(0);
  }
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
