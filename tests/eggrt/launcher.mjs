// Starts the Egg apps listed in a jobs file, one after another, single-process
// (`egg.start({baseDir, env})`), waits for each config dump (run/application_config.json)
// and closes the app. tests/eggrt gives it ONE app per process: egg 4 keeps state in loaded
// modules (@eggjs/i18n appends every app's locale dirs to the array its config module
// shares), so a second app in the same process dumps values no real start produces.
//
// Usage: node launcher.mjs <major> <jobs.json>
// jobs.json: [{"id", "baseDir", "env" (null = let Egg pick), "home", "timeoutMs", "loadedFile"}]
// This file is copied next to a node_modules link to the runtime, so bare 'egg' resolves there.
// Results are printed one per line, prefixed with the marker below (Egg logs to stdout too).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const MARK = '@@EGGRT@@ ';
const [, , major, jobsFile] = process.argv;
const jobs = JSON.parse(fs.readFileSync(jobsFile, 'utf8'));

// egg 3 is CommonJS and is deployed through require(); egg 4 ships an ESM build that
// egg-scripts/@eggjs/scripts load with import(), which also puts @eggjs/utils in ESM mode.
const require = createRequire(import.meta.url);
const egg = major === '3' ? require('egg') : await import('egg');
const { start } = egg;
const CircularJSON = createRequire(require.resolve('egg/package.json'))('circular-json-for-egg');

// Besides Egg's own dump (taken after ready, so it includes what plugins' boot code changed),
// snapshot the config right after the loader merged the config files, masked the same way.
// The difference between the two is exactly the set of runtime mutations, which the oracle
// compares leniently; the snapshot is what a static resolver can be expected to produce.
let currentJob = null;
const Loader = egg.AppWorkerLoader;
const loadConfig = Loader.prototype.loadConfig;
Loader.prototype.loadConfig = function (...args) {
  const snap = () => {
    if (!currentJob || !currentJob.loadedFile) return;
    const { config } = egg.Application.prototype.dumpConfigToObject.call({ config: this.config, loader: this });
    fs.writeFileSync(currentJob.loadedFile, CircularJSON.stringify(config, null, 2));
  };
  const res = loadConfig.apply(this, args); // sync in egg 3, async in egg 4
  if (res && typeof res.then === 'function') return res.then(v => { snap(); return v; });
  snap();
  return res;
};

function emit(obj) {
  process.stdout.write(MARK + JSON.stringify(obj) + '\n');
}

function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([ promise, t ]).finally(() => clearTimeout(timer));
}

async function waitForDump(rundir, deadline) {
  // The dump is written by a ready callback after a nextTick, i.e. possibly after start() resolves.
  const files = [ 'application_config.json', 'application_config_meta.json' ].map(f => path.join(rundir, f));
  while (!files.every(f => fs.existsSync(f))) {
    if (Date.now() > deadline) throw new Error(`no config dump in ${rundir}`);
    await new Promise(r => setTimeout(r, 20));
  }
}

for (const job of jobs) {
  const t0 = Date.now();
  const deadline = t0 + job.timeoutMs;
  // appInfo.HOME (and so logger.dir in prod) comes from EGG_HOME, read when each app is constructed.
  process.env.EGG_HOME = job.home;
  currentJob = job;
  let app;
  try {
    const options = { baseDir: job.baseDir, ignoreWarning: true };
    if (job.env) options.env = job.env;
    app = await withTimeout(start(options), job.timeoutMs, 'egg start');
    await waitForDump(app.config.rundir, deadline);
    emit({ id: job.id, ok: true, ms: Date.now() - t0, rundir: app.config.rundir });
  } catch (err) {
    emit({ id: job.id, ok: false, ms: Date.now() - t0, error: String(err && err.stack || err) });
  }
  if (app) {
    // Single mode: app.close() also closes the agent. A hang here must not block the batch.
    await withTimeout(app.close(), 10000, 'egg close').catch(err => emit({ id: job.id, closeError: String(err) }));
  }
}
emit({ done: true });
// Timers of half-closed apps (a failed start) must not keep the process alive.
process.exit(0);
