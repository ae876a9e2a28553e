#!/usr/bin/env node
'use strict';
/*
 * Prove an egg_defaults data file against a running Egg.
 *
 *   node verify.js --install-dir /tmp/eggdefaults/egg3 --data src/eggshield/data/egg_defaults/egg3.json [--env prod] [--json report.json]
 *
 * Creates an empty app (package.json with a name, config/config.default.js with
 * only `keys`) inside the install dir, starts it with `egg.start({baseDir, env})`
 * (egg 4: the ESM build via import()), reads run/application_config.json and
 * compares it, leaf by leaf, with the merge of the data file's units:
 *   default layer of every enabled unit in load_order, app config.default,
 *   env layer of every enabled unit, app config.{env} (none),
 *   then what egg-core's loadConfig adds (coreMiddlewares/appMiddleware/appMiddlewares),
 * masked the way Egg masks the dump (config.dump.ignore).
 * It also compares the same expectation with the live, unmasked `app.config`.
 *
 * Differences are split into "explained" (runtime mutations made by plugins'
 * boot code before the dump, listed in EXPLAINED below with the reason) and
 * "unexplained". Exit code 1 if any unexplained difference remains.
 */

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createRequire } = require('node:module');
const lib = require('./lib');

let MAJOR = 0;
const APP_NAME = 'eggshield-verify';
const APP_VERSION = '1.0.0';
const APP_KEYS = 'eggshield-verify-keys_1700000000000_1234';

// Runtime mutations of app.config made by boot code after loadConfig() and
// before the dump (found by reading the plugins' code). They are not defaults,
// so they are not in the data. [path regexp, majors, reason]
const EXPLAINED = [
  [/^coreMiddlewares?$/, [2, 3, 4],
    'plugins push their middleware names at boot (modelled from units[*].runtime_core_middleware; still differs)'],
  [/^i18n\.(dirs|functionName)$/, [2, 3],
    'egg-i18n app.js sets functionName "__" and pushes every load unit\'s config/locale(s) dir onto dirs'],
  [/^i18n\.(dirs|defaultLocale|cookieMaxAge)$/, [4],
    '@eggjs/i18n app.js didLoad(): defaultLocale = formatLocale() ("en_US" -> "en-us"), cookieMaxAge = ms(), pushes locale dirs'],
  [/^multipart\.(fieldSize|fileSize|checkFile)$/, [2, 3, 4],
    'egg-multipart lib/utils normalizeOptions(): sizes converted with bytes(), checkFile() added, on app.config.multipart itself'],
  [/^multipartParseOptions\./, [2],
    'egg-multipart@2 app.js creates app.config.multipartParseOptions (busboy options) at boot'],
  [/^bodyParser\.(onerror|returnRawBody)$/, [2, 3, 4],
    'koa-bodyparser@4 mutates the options object it is given (app.config.bodyParser): onerror set to undefined, returnRawBody = true'],
  [/^session\.(overwrite|signed|autoCommit|encode|decode|genid)$/, [2, 3],
    'koa-session@6 formatOpts() fills its defaults into app.config.session in place'],
  [/^session\.genid$/, [4],
    'koa-session@7 fills genid into app.config.session in place'],
  [/^security\.\w+\.matching$/, [2, 3, 4],
    'the securities middleware stores an egg-path-matching function as opt.matching in each enabled sub-config'],
  [/^security\._protocolWhiteListSet$/, [2, 3],
    'egg-security app.js preprocessConfig() adds _protocolWhiteListSet'],
  [/^logger\.(type|localStorage)$/, [2, 3],
    'egg lib/core/logger.js writes type (and localStorage in egg 3) into app.config.logger'],
];

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].slice(2);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) args[key] = true;
    else { args[key] = next; i++; }
  }
  return args;
}

// ---------------------------------------------------------------------------
// expected config from the data file

function enabledUnits(data, env) {
  const enabled = new Set();
  for (const [name, p] of Object.entries(data.plugins)) {
    if (p.enable && (!p.env.length || p.env.includes(env))) enabled.add(name);
  }
  // implicit enabling of required dependencies (egg-core getOrderPlugins)
  let changed = true;
  while (changed) {
    changed = false;
    for (const name of [...enabled]) {
      for (const dep of data.plugins[name].dependencies) {
        if (!enabled.has(dep)) { enabled.add(dep); changed = true; }
      }
    }
  }
  return data.load_order.filter(n => data.units[n].kind !== 'plugin' || enabled.has(n));
}

function mapStrings(v, fn) {
  if (typeof v === 'string') return fn(v);
  if (Array.isArray(v)) return v.map(x => mapStrings(x, fn));
  if (v && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v)) out[k] = mapStrings(v[k], fn);
    return out;
  }
  return v;
}

function buildExpected(data, env, ctx, appConfig) {
  const order = enabledUnits(data, env);
  // egg-core's loadConfig() target: {} (egg 2/3) or {middleware: [], coreMiddleware: []} (egg 4)
  const target = JSON.parse(JSON.stringify(data.loader_initial_target || {}));
  for (const name of order) lib.merge(target, data.units[name].envs[env].default);
  lib.merge(target, appConfig.default);
  for (const name of order) lib.merge(target, data.units[name].envs[env].env);
  lib.merge(target, appConfig.env);
  // egg-core loadConfig(): coreMiddleware/coreMiddlewares and appMiddleware/appMiddlewares
  target.coreMiddleware = target.coreMiddleware || [];
  target.coreMiddlewares = target.coreMiddleware;
  target.appMiddleware = target.middleware || [];
  target.appMiddlewares = target.appMiddleware;
  const subst = {
    '{name}': ctx.name, '{baseDir}': ctx.baseDir, '{HOME}': ctx.HOME, '{root}': ctx.root,
    '{version}': ctx.version, '{tmpdir}': os.tmpdir(), '{homedir}': os.homedir(), '{node_modules}': ctx.nodeModules,
  };
  const out = mapStrings(target, s => s.replace(/\{(name|baseDir|HOME|root|version|tmpdir|homedir|node_modules)\}/g, m => subst[m]));
  return { order, config: out };
}

/** The documented runtime coreMiddleware additions, applied in unit order. */
function applyRuntimeMiddleware(data, order, config) {
  const core = config.coreMiddleware.slice();
  for (const name of order) {
    for (const m of data.units[name].runtime_core_middleware || []) {
      if (m === 'static') {
        const i = core.indexOf('bodyParser');
        if (i === -1) core.push(m); else core.splice(i, 0, m);
      } else {
        core.push(m);
      }
    }
  }
  config.coreMiddleware = core;
  config.coreMiddlewares = core;
}

// ---------------------------------------------------------------------------
// masking (egg lib/core/utils convertObject) applied to encoded values

const ANY = { $any: 'unpredictable' };
const URLSTR = { $urlstr: true };
const FN = { $fn: true };

function ignoreList(config) {
  const ign = config.dump && config.dump.ignore;
  const arr = ign && ign.$set ? ign.$set : (Array.isArray(ign) ? ign : []);
  return arr.map(x => {
    if (x && x.$regexp) {
      const m = /^\/(.*)\/([a-z]*)$/s.exec(x.$regexp);
      return new RegExp(m[1], m[2]);
    }
    return x;
  });
}

// JSON.stringify semantics for the (untraversed) contents of an array
function jsonOf(v) {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(x => { const j = jsonOf(x); return j === undefined ? null : j; });
  if (lib.isTagged(v)) {
    if (v.$regexp || v.$set) return {};
    if (v.$function) return undefined;
    if (v.$number) return null;
    return ANY;
  }
  const out = {};
  for (const k of Object.keys(v)) { const j = jsonOf(v[k]); if (j !== undefined) out[k] = j; }
  return out;
}

function mask(obj, ignore) {
  const out = {};
  for (const key of Object.keys(obj)) out[key] = maskValue(key, obj[key], ignore);
  return out;
}

function maskValue(key, v, ignore) {
  if (v === null || v === undefined) return v;
  const hit = ignore.some(m => (typeof m === 'string' ? m === key : m.test(key)));
  const tagged = lib.isTagged(v);
  if (!hit) {
    if (tagged && (v.$regexp || v.$symbol)) return v.$regexp || v.$symbol;
    // egg 4 convertValue() stringifies URL objects (the href is not in the data)
    if (tagged && v.$object === 'URL' && MAJOR >= 4) return URLSTR;
    if (typeof v !== 'object') return v;
    if (Array.isArray(v)) return jsonOf(v);
  }
  if (!tagged && !Array.isArray(v) && typeof v === 'object') return mask(v, ignore);
  if (tagged) {
    if (v.$function) return FN;
    if (v.$buffer !== undefined) return `<Buffer len: ${v.$buffer}>`;
    if (v.$set) return '<Set>';
    if (v.$regexp) return '<RegExp>';
    if (v.$object) return `<${v.$object}>`;
    return ANY;
  }
  if (Array.isArray(v)) return '<Array>';
  if (typeof v === 'string') return `<String len: ${v.length}>`;
  if (typeof v === 'number') return '<Number>';
  if (typeof v === 'boolean') return '<Boolean>';
  return ANY;
}

// ---------------------------------------------------------------------------
// leaf comparison

function flatten(v, prefix, out, isLive) {
  const plain = v && typeof v === 'object' && !Array.isArray(v) && !lib.isTagged(v) && !v.$fn && !v.$any && !v.$urlstr;
  if (plain && Object.keys(v).length) {
    for (const k of Object.keys(v)) flatten(v[k], prefix ? `${prefix}.${k}` : k, out, isLive);
  } else {
    out.set(prefix, v);
  }
  return out;
}

function same(exp, act) {
  if (exp && exp.$any) return true;
  if (exp && exp.$urlstr) return typeof act === 'string' && /^[a-z][a-z0-9+.-]*:/.test(act);
  if (exp && exp.$fn) return typeof act === 'string' && /^<(Async|Generator)?Function |^<Class /.test(act);
  if (exp && exp.$function) return !!(act && act.$function);
  if (Array.isArray(exp) && Array.isArray(act)) return exp.length === act.length && exp.every((x, i) => same(x, act[i]));
  if (exp && act && typeof exp === 'object' && typeof act === 'object' && !Array.isArray(exp) && !Array.isArray(act)) {
    const ke = Object.keys(exp); const ka = Object.keys(act);
    return ke.length === ka.length && ke.every(k => same(exp[k], act[k]));
  }
  return exp === act;
}

function compare(expected, actual) {
  const e = flatten(expected, '', new Map());
  const a = flatten(actual, '', new Map());
  const res = { compared: 0, equal: 0, diffs: [] };
  for (const [k, ev] of e) {
    res.compared++;
    if (!a.has(k)) {
      // a leaf may be a non-empty object on one side only
      res.diffs.push({ path: k, kind: 'missing_in_egg', expected: ev });
      continue;
    }
    const av = a.get(k);
    if (same(ev, av)) res.equal++;
    else res.diffs.push({ path: k, kind: 'different', expected: ev, actual: av });
  }
  for (const [k, av] of a) {
    if (!e.has(k)) res.diffs.push({ path: k, kind: 'extra_in_egg', actual: av });
  }
  return res;
}

function explain(diffs, major) {
  const explained = [];
  const unexplained = [];
  for (const d of diffs) {
    const rule = EXPLAINED.find(([re, majors]) => majors.includes(major) && re.test(d.path));
    if (rule) explained.push({ ...d, reason: rule[2] });
    else unexplained.push(d);
  }
  return { explained, unexplained };
}

// ---------------------------------------------------------------------------

async function waitForDump(file, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fs.existsSync(file)) {
      try {
        const text = fs.readFileSync(file, 'utf8');
        JSON.parse(text);
        await new Promise(r => setTimeout(r, 300));
        if (fs.readFileSync(file, 'utf8') === text) return text;
      } catch { /* still being written */ }
    }
    await new Promise(r => setTimeout(r, 100));
  }
  throw new Error(`${file} not written in ${ms} ms`);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const installDir = path.resolve(args['install-dir']);
  const data = lib.readJSON(path.resolve(args.data));
  const env = args.env || 'prod';
  const eggDir = lib.findPackageDir('egg', [installDir]);
  const eggPkg = lib.readJSON(path.join(eggDir, 'package.json'));
  const major = parseInt(eggPkg.version, 10);
  MAJOR = major;
  if (eggPkg.version !== data.egg_version) throw new Error(`installed egg@${eggPkg.version}, data is for ${data.egg_version}`);

  // the empty app
  const baseDir = fs.mkdtempSync(path.join(installDir, `.verify-${env}-`));
  fs.writeFileSync(path.join(baseDir, 'package.json'), JSON.stringify({ name: APP_NAME, version: APP_VERSION }, null, 2));
  fs.mkdirSync(path.join(baseDir, 'config'));
  fs.writeFileSync(path.join(baseDir, 'config/config.default.js'), `module.exports = { keys: ${JSON.stringify(APP_KEYS)} };\n`);
  // a HOME distinct from baseDir, so that {root}/{HOME}/{baseDir} mix-ups show up; keeps prod logs here
  const home = path.join(baseDir, 'home');
  fs.mkdirSync(home);
  process.env.EGG_HOME = home;
  delete process.env.EGG_APP_CONFIG;
  delete process.env.EGG_SERVER_ENV;
  delete process.env.EGG_SERVER_SCOPE;
  process.chdir(baseDir);

  const egg = major >= 4 ? await import(lib.esmEntry(eggDir)) : createRequire(path.join(eggDir, 'package.json'))('.');
  const app = await egg.start({ baseDir, env });
  const text = await waitForDump(path.join(baseDir, 'run/application_config.json'), 30000);
  const CircularJSON = createRequire(path.join(eggDir, 'package.json'))('circular-json-for-egg');
  const dump = CircularJSON.parse(text);
  const live = lib.encode(app.config, '?', null);
  const liveOrder = app.loader.orderPlugins.map(p => p.name);
  try {
    await Promise.race([(async () => { await app.close(); if (app.agent) await app.agent.close(); })(), new Promise(r => setTimeout(r, 5000))]);
  } catch { /* ignore */ }

  const ctx = {
    name: APP_NAME, version: APP_VERSION, baseDir, HOME: home, nodeModules: fs.realpathSync(path.join(installDir, 'node_modules')),
    root: ['local', 'unittest'].includes(env) ? baseDir : home,
  };
  for (const k of ['name', 'baseDir', 'HOME', 'root', 'env']) {
    if (k in ctx && dump.appInfo[k] !== ctx[k]) throw new Error(`appInfo.${k}: ${dump.appInfo[k]} != ${ctx[k]}`);
  }
  const appConfig = { default: { keys: APP_KEYS }, env: {} };
  const { order, config: merged } = buildExpected(data, env, ctx, appConfig);

  const report = { egg_version: data.egg_version, env, checks: {} };
  const pluginOrder = order.filter(n => data.units[n].kind === 'plugin');
  report.plugin_order = { data: pluginOrder, egg: liveOrder, equal: JSON.stringify(pluginOrder) === JSON.stringify(liveOrder) };

  // 1. raw merge vs dump (masked)
  const ignore = ignoreList(merged);
  const raw = compare(mask(merged, ignore), dump.config);
  // 2. with the documented runtime coreMiddleware additions
  const withRuntime = JSON.parse(JSON.stringify(merged));
  applyRuntimeMiddleware(data, order, withRuntime);
  const dumpCmp = compare(mask(withRuntime, ignore), dump.config);
  const dumpEx = explain(dumpCmp.diffs, major);
  report.checks.dump = {
    leaves_compared: dumpCmp.compared, leaves_equal: dumpCmp.equal,
    diffs_before_runtime_middleware: raw.diffs.length,
    explained: dumpEx.explained, unexplained: dumpEx.unexplained,
  };
  // 3. unmasked live app.config
  const liveCmp = compare(withRuntime, live);
  const liveEx = explain(liveCmp.diffs, major);
  report.checks.live = {
    leaves_compared: liveCmp.compared, leaves_equal: liveCmp.equal,
    explained: liveEx.explained, unexplained: liveEx.unexplained,
  };
  // 4. plugin metadata in the dump
  const pluginDiffs = [];
  for (const [name, p] of Object.entries(data.plugins)) {
    const d = dump.plugins[name];
    if (!d) { pluginDiffs.push(`${name}: missing in dump`); continue; }
    for (const k of ['package', 'version', 'env', 'dependencies']) {
      if (JSON.stringify(d[k]) !== JSON.stringify(p[k])) pluginDiffs.push(`${name}.${k}: data ${JSON.stringify(p[k])} egg ${JSON.stringify(d[k])}`);
    }
    const shouldEnable = pluginOrder.includes(name);
    if (d.enable !== shouldEnable) pluginDiffs.push(`${name}.enable: expected ${shouldEnable} egg ${d.enable}`);
  }
  report.checks.plugins = { unexplained: pluginDiffs };

  if (args.json) fs.writeFileSync(args.json, JSON.stringify(report, null, 2) + '\n');
  if (!args.keep) fs.rmSync(baseDir, { recursive: true, force: true });

  const short = v => { const s = JSON.stringify(v); return s && s.length > 140 ? s.slice(0, 137) + '...' : s; };
  const lines = [];
  lines.push(`egg@${data.egg_version} env=${env}: plugin order ${report.plugin_order.equal ? 'matches' : 'DIFFERS'} (${liveOrder.join(',')})`);
  for (const [name, c] of Object.entries(report.checks)) {
    if (name === 'plugins') {
      lines.push(`  plugins metadata: ${c.unexplained.length} unexplained`);
      for (const d of c.unexplained) lines.push(`    ! ${d}`);
      continue;
    }
    lines.push(`  ${name}: ${c.leaves_compared} leaves compared, ${c.leaves_equal} equal, ${c.explained.length} explained, ${c.unexplained.length} unexplained` +
      (c.diffs_before_runtime_middleware !== undefined ? ` (${c.diffs_before_runtime_middleware} diffs before runtime middleware)` : ''));
    for (const d of c.explained) lines.push(`    ~ ${d.kind} ${d.path}: data ${short(d.expected)} egg ${short(d.actual)} -- ${d.reason}`);
    for (const d of c.unexplained) lines.push(`    ! ${d.kind} ${d.path}: data ${short(d.expected)} egg ${short(d.actual)}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  const bad = report.checks.dump.unexplained.length + report.checks.live.unexplained.length + pluginDiffs.length + (report.plugin_order.equal ? 0 : 1);
  process.exit(bad ? 1 : 0);
}

main().catch(err => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(2);
});
