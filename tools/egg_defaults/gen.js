#!/usr/bin/env node
'use strict';
/*
 * Extract the framework and default-plugin config defaults of an installed egg
 * (2.x, 3.x or 4.0.x) into eggshield's data format.
 *
 *   node gen.js --install-dir /tmp/eggdefaults/egg3 --out src/eggshield/data/egg_defaults/egg3.json [--date 2026-12-03]
 *
 * It reads the framework's config/plugin.js, each default plugin's package.json
 * `eggPlugin` metadata and config/config.{default,prod,local,unittest}.* files
 * plus the framework's own config files, and loads them in Node the way Egg's
 * loader does (egg-core `loadFile` / @eggjs/utils `importModule`), calling
 * function exports with a placeholder appInfo and appConfig `{}`.
 *
 * The plugin load order and the runtime coreMiddleware are taken from Egg
 * itself: for each env, gen.js re-runs itself (`--probe ENV`) in a child
 * process that starts an empty app with `egg.start({baseDir, env})` and reports
 * `app.loader.orderPlugins`, `app.loader.allPlugins`, `app.loader.getLoadUnits()`
 * and `app.config.coreMiddleware`.
 */

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createRequire } = require('node:module');
const { execFileSync } = require('node:child_process');
const lib = require('./lib');

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const key = a.slice(2);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) {
      args[key] = true;
    } else {
      args[key] = next;
      i++;
    }
  }
  return args;
}

function placeholderAppInfo(env) {
  return {
    name: '{name}',
    baseDir: '{baseDir}',
    root: '{root}',
    HOME: '{HOME}',
    env,
    scope: '',
    pkg: { name: '{name}', version: '{version}' },
  };
}

/** Everything about how this egg major loads files, mirroring its own loader. */
async function makeLoader(installDir) {
  const eggDir = lib.findPackageDir('egg', [installDir]);
  if (!eggDir) throw new Error(`egg is not installed under ${installDir}`);
  const eggPkg = lib.readJSON(path.join(eggDir, 'package.json'));
  const major = parseInt(eggPkg.version, 10);
  const eggRequire = createRequire(path.join(eggDir, 'package.json'));

  const L = { installDir, eggDir, eggPkg, major, esm: major >= 4 };

  if (!L.esm) {
    // egg 2/3: egg-core resolveModule (require.resolve, .ts only with EGG_TYPESCRIPT) + utils.loadFile
    const coreDir = lib.findPackageDir('egg-core', [eggDir]);
    L.corePkg = lib.readJSON(path.join(coreDir, 'package.json'));
    const coreUtils = createRequire(path.join(coreDir, 'package.json'))('./lib/utils');
    L.frameworkDir = eggDir;
    L.resolveModule = p => {
      let full;
      try {
        full = eggRequire.resolve(p);
      } catch {
        return undefined;
      }
      if (process.env.EGG_TYPESCRIPT !== 'true' && full.endsWith('.ts')) return undefined;
      return full;
    };
    L.requireFile = async p => coreUtils.loadFile(p);
    L.awaitsPromise = false;
  } else {
    // egg 4: @eggjs/core resolveModule (@eggjs/utils importResolve) + importModule(importDefaultOnly)
    const coreDir = lib.findPackageDir('@eggjs/core', [eggDir]);
    L.corePkg = lib.readJSON(path.join(coreDir, 'package.json'));
    const utilsDir = lib.findPackageDir('@eggjs/utils', [coreDir]);
    // import the ESM build, as `import('egg')` does: @eggjs/utils then runs with isESM === true
    const utils = await import(lib.esmEntry(utilsDir));
    if (!utils.isESM) throw new Error('@eggjs/utils was not loaded as ESM');
    const exp = eggPkg.egg && eggPkg.egg.exports;
    // egg 4's Symbol.for('egg#eggPath') is getSourceDirname(): dist/esm for the ESM build
    L.frameworkDir = exp && exp.import ? path.join(eggDir, exp.import) : eggDir;
    L.resolveModule = p => {
      try {
        return utils.importResolve(p);
      } catch {
        return undefined;
      }
    };
    L.requireFile = async p => utils.importModule(p, { importDefaultOnly: true });
    L.awaitsPromise = true;
  }
  L.frameworkDir = fs.realpathSync(L.frameworkDir);
  L.coreDir = lib.findPackageDir(L.esm ? '@eggjs/core' : 'egg-core', [eggDir]);
  L.warnings = [];

  /** egg-core loadFile(filepath, appInfo, appConfig). */
  L.loadFile = async (file, appInfo, appConfig) => {
    let mod = await L.requireFile(file);
    if (typeof mod === 'function' && !lib.isClass(mod)) {
      mod = mod(appInfo, appConfig);
      if (mod && typeof mod.then === 'function') {
        if (L.awaitsPromise) {
          mod = await mod;
        } else {
          // egg <= 3 merges the Promise object itself: it has no enumerable keys
          L.warnings.push(`${file} returns a Promise: egg ${major} ignores it`);
          mod = {};
        }
      }
    }
    return mod;
  };
  return L;
}

/**
 * The object egg-core's loadConfig() merges every unit into: `{}` in egg-core 4/5,
 * `{middleware: [], coreMiddleware: []}` in @eggjs/core 6. Read from the loader source.
 */
function readLoaderInitialTarget(L) {
  const candidates = L.esm
    ? ['dist/esm/loader/egg_loader.js', 'dist/commonjs/loader/egg_loader.js']
    : ['lib/loader/mixin/config.js'];
  for (const rel of candidates) {
    const file = path.join(L.coreDir, rel);
    if (!fs.existsSync(file)) continue;
    const src = fs.readFileSync(file, 'utf8');
    const m = /loadConfig\(\)\s*\{[\s\S]*?const target(?:\s*:\s*\w+)?\s*=\s*(\{[^{}]*\});/.exec(src);
    if (m) return lib.encode(new Function(`return (${m[1]});`)(), null, null);
  }
  throw new Error(`cannot find loadConfig's target in ${L.coreDir}`);
}

/** The plugin units the framework enables (config/plugin.default or config/plugin). */
async function readFrameworkPlugins(L) {
  let file = L.resolveModule(path.join(L.frameworkDir, 'config/plugin.default'));
  if (!file) file = L.resolveModule(path.join(L.frameworkDir, 'config/plugin'));
  if (!file) throw new Error(`no config/plugin.* under ${L.frameworkDir}`);
  for (const env of lib.ENVS) {
    if (L.resolveModule(path.join(L.frameworkDir, `config/plugin.${env}`))) {
      L.warnings.push(`framework has config/plugin.${env}: not captured`);
    }
  }
  const raw = await L.requireFile(file);
  const from = `${L.eggPkg.name}@${L.eggPkg.version} ${lib.rel(L.eggDir, file)}`;
  const plugins = {};
  for (const name of Object.keys(raw)) {
    let p = raw[name];
    if (typeof p === 'boolean') p = { enable: p };
    const pkgName = p.package || name;
    const pkgDir = lib.findPackageDir(pkgName, [L.eggDir, L.installDir]);
    if (!pkgDir) throw new Error(`plugin ${name}: package ${pkgName} not found`);
    const pkg = lib.readJSON(path.join(pkgDir, 'package.json'));
    const ep = pkg.eggPlugin || {};
    if (ep.dep && !(Array.isArray(ep.dependencies) && ep.dependencies.length)) ep.dependencies = ep.dep;
    let unitDir = pkgDir;
    if (L.esm && ep.exports && ep.exports.import) unitDir = path.join(pkgDir, ep.exports.import);
    const pick = key => (Array.isArray(p[key]) && p[key].length ? p[key] : (Array.isArray(ep[key]) ? ep[key] : []));
    plugins[name] = {
      enable: p.enable !== false,
      package: pkgName,
      version: pkg.version,
      env: pick('env'),
      dependencies: pick('dependencies'),
      optionalDependencies: pick('optionalDependencies'),
      from,
      _pkgDir: pkgDir,
      _unitDir: fs.realpathSync(unitDir),
      _eggPluginName: ep.name,
    };
    if (ep.name && ep.name !== name) L.warnings.push(`plugin ${name}: eggPlugin.name is ${ep.name}`);
  }
  return plugins;
}

/** config.default per env + config.{env} for one load unit. */
async function readUnit(L, { kind, pkgName, version, pkgDir, unitDir }) {
  const label = `${pkgName}@${version}`;
  const scrub = lib.makeStringScrubber(path.join(L.installDir, 'node_modules'));
  const resolveConfig = name => {
    let f = L.resolveModule(path.join(unitDir, 'config', name));
    if (!f && name === 'config.default') f = L.resolveModule(path.join(unitDir, 'config/config'));
    return f;
  };
  const files = { default: null };
  for (const env of lib.ENV_FILES) files[env] = null;
  const defaultFile = resolveConfig('config.default');
  if (defaultFile) files.default = `${label} ${lib.rel(pkgDir, defaultFile)}`;
  const envFiles = {};
  for (const env of lib.ENVS) {
    const f = resolveConfig(`config.${env}`);
    if (f) {
      envFiles[env] = f;
      files[env] = `${label} ${lib.rel(pkgDir, f)}`;
    }
  }
  const envs = {};
  for (const env of lib.ENVS) {
    const appInfo = placeholderAppInfo(env);
    let def = {};
    if (defaultFile) {
      const v = await L.loadFile(defaultFile, appInfo, {});
      def = lib.encode(v, files.default, scrub) || {};
    }
    let envLayer = {};
    if (envFiles[env]) {
      const v = await L.loadFile(envFiles[env], appInfo, {});
      envLayer = lib.encode(v, files[env], scrub) || {};
    }
    for (const [layer, obj] of [['default', def], ['env', envLayer]]) {
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj) || lib.isTagged(obj)) {
        throw new Error(`${label} ${layer} config for ${env} is not a plain object`);
      }
      if (kind === 'plugin' && obj.coreMiddleware) throw new Error(`${label} sets coreMiddleware`);
      if (obj.middleware) throw new Error(`${label} sets middleware`);
    }
    envs[env] = { default: def, env: envLayer };
  }
  return { kind, package: pkgName, version, envs, files };
}

/** Names pushed into app.config.coreMiddleware / appMiddleware by a plugin's own code. */
function scanRuntimeMiddleware(unitDir) {
  const found = { core: new Set(), app: new Set() };
  const re = /\b(core|app)Middlewares?\s*\.\s*(?:push|unshift)\(\s*['"]([\w-]+)['"]|\b(core|app)Middlewares?\s*\.\s*splice\([^,]+,\s*0\s*,\s*['"]([\w-]+)['"]/g;
  const walk = dir => {
    for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
      if (ent.name === 'node_modules' || ent.name === 'test' || ent.name.startsWith('.')) continue;
      const full = path.join(dir, ent.name);
      if (ent.isDirectory()) walk(full);
      else if (/\.(c|m)?js$/.test(ent.name) && !ent.name.endsWith('.d.ts')) {
        const src = fs.readFileSync(full, 'utf8');
        let m;
        while ((m = re.exec(src))) {
          const kind = m[1] || m[3];
          found[kind].add(m[2] || m[4]);
        }
      }
    }
  };
  walk(unitDir);
  return { core: [...found.core], app: [...found.app] };
}

// ---------------------------------------------------------------------------
// probe: start an empty app and ask Egg for its plugin order and runtime state

function makeProbeApp(parent, env) {
  const dir = fs.mkdtempSync(path.join(parent, `.probe-${env}-`));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'eggshield-probe', version: '1.0.0' }, null, 2));
  fs.mkdirSync(path.join(dir, 'config'));
  fs.writeFileSync(path.join(dir, 'config/config.default.js'), "module.exports = { keys: 'eggshield-probe-key' };\n");
  return dir;
}

async function loadEgg(installDir) {
  const eggDir = lib.findPackageDir('egg', [installDir]);
  const major = parseInt(lib.readJSON(path.join(eggDir, 'package.json')).version, 10);
  if (major >= 4) return import(lib.esmEntry(eggDir));
  return createRequire(path.join(eggDir, 'package.json'))('.');
}

async function probe(installDir, env, outFile) {
  const baseDir = makeProbeApp(installDir, env);
  process.env.EGG_HOME = baseDir; // keep prod logs inside the probe dir
  process.chdir(baseDir);
  const egg = await loadEgg(installDir);
  const app = await egg.start({ baseDir, env });
  const loader = app.loader;
  const real = p => { try { return fs.realpathSync(p); } catch { return p; } };
  const result = {
    env,
    orderPlugins: loader.orderPlugins.map(p => p.name),
    allPlugins: Object.fromEntries(Object.entries(loader.allPlugins).map(([name, p]) => [name, {
      enable: p.enable, package: p.package, version: p.version, env: p.env,
      dependencies: p.dependencies, optionalDependencies: p.optionalDependencies || [],
      implicitEnable: p.implicitEnable, path: p.path && real(p.path),
    }])),
    loadUnits: loader.getLoadUnits().map(u => ({ type: u.type, path: real(u.path) })),
    eggPaths: loader.eggPaths.map(real),
    coreMiddleware: [...app.config.coreMiddleware],
    appMiddleware: [...app.config.appMiddleware],
  };
  fs.writeFileSync(outFile, JSON.stringify(result, null, 2));
  try {
    await Promise.race([
      (async () => { await app.close(); if (app.agent) await app.agent.close(); })(),
      new Promise(r => setTimeout(r, 5000)),
    ]);
  } catch { /* ignore */ }
  fs.rmSync(baseDir, { recursive: true, force: true });
  process.exit(0);
}

function runProbe(installDir, env) {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'eggshield-probe-')), 'probe.json');
  execFileSync(process.execPath, [__filename, '--probe', env, '--install-dir', installDir, '--probe-out', out], {
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 120000,
    env: { ...process.env, NODE_ENV: '', EGG_SERVER_ENV: '' },
  });
  const res = lib.readJSON(out);
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  return res;
}

// ---------------------------------------------------------------------------

async function generate(args) {
  const installDir = path.resolve(args['install-dir']);
  const L = await makeLoader(installDir);
  const plugins = await readFrameworkPlugins(L);

  // Ask Egg itself: plugin order with every default plugin enabled (development is
  // env:['local'] only, so `local` is the env where all of them are on).
  const probes = {};
  for (const env of lib.ENVS) probes[env] = runProbe(installDir, env);
  const local = probes.local;
  const enabledAll = Object.keys(plugins).filter(n => plugins[n].enable);
  for (const n of enabledAll) {
    if (!local.orderPlugins.includes(n)) throw new Error(`plugin ${n} not enabled in the local probe`);
  }
  const loadOrder = local.orderPlugins.filter(n => plugins[n]);
  const extra = local.orderPlugins.filter(n => !plugins[n]);
  if (extra.length) throw new Error(`probe enabled plugins unknown to plugin.js: ${extra}`);

  // cross-check what we resolved against what Egg's loader resolved
  for (const name of loadOrder) {
    const mine = plugins[name];
    const theirs = local.allPlugins[name];
    if (theirs.path !== mine._unitDir) throw new Error(`plugin ${name}: egg uses ${theirs.path}, gen.js ${mine._unitDir}`);
    if (theirs.version !== mine.version) throw new Error(`plugin ${name}: version mismatch`);
    for (const k of ['env', 'dependencies', 'optionalDependencies']) {
      if (JSON.stringify(theirs[k]) !== JSON.stringify(mine[k])) {
        throw new Error(`plugin ${name}: ${k} egg=${JSON.stringify(theirs[k])} gen=${JSON.stringify(mine[k])}`);
      }
    }
  }
  if (JSON.stringify(local.eggPaths) !== JSON.stringify([L.frameworkDir])) {
    throw new Error(`eggPaths ${local.eggPaths} != ${L.frameworkDir}`);
  }
  const unitPaths = local.loadUnits.filter(u => u.type !== 'app').map(u => u.path);
  const expectPaths = loadOrder.map(n => plugins[n]._unitDir).concat([L.frameworkDir]);
  if (JSON.stringify(unitPaths) !== JSON.stringify(expectPaths)) {
    throw new Error(`getLoadUnits() order differs:\n${unitPaths.join('\n')}\nvs\n${expectPaths.join('\n')}`);
  }

  const units = {};
  for (const name of loadOrder) {
    const p = plugins[name];
    const unit = await readUnit(L, { kind: 'plugin', pkgName: p.package, version: p.version, pkgDir: p._pkgDir, unitDir: p._unitDir });
    const scan = scanRuntimeMiddleware(p._unitDir);
    const seen = new Set();
    for (const env of lib.ENVS) {
      if (probes[env].orderPlugins.includes(name)) for (const m of probes[env].coreMiddleware) seen.add(m);
    }
    const core = scan.core.filter(m => seen.has(m));
    const conditional = scan.core.filter(m => !seen.has(m));
    if (core.length) unit.runtime_core_middleware = core;
    if (conditional.length) unit.runtime_core_middleware_conditional = conditional;
    if (scan.app.length) unit.runtime_app_middleware = scan.app;
    units[name] = unit;
  }
  units[L.eggPkg.name] = await readUnit(L, {
    kind: 'framework', pkgName: L.eggPkg.name, version: L.eggPkg.version, pkgDir: L.eggDir, unitDir: L.frameworkDir,
  });

  const date = args.date || new Date().toISOString().slice(0, 10);
  const pkgList = [`${L.eggPkg.name}@${L.eggPkg.version}`, `${L.esm ? '@eggjs/core' : 'egg-core'}@${L.corePkg.version}`]
    .concat(Object.keys(plugins).map(n => `${plugins[n].package}@${plugins[n].version}`));
  const out = {
    egg_major: L.major,
    egg_version: L.eggPkg.version,
    framework_package: L.eggPkg.name,
    generated: date,
    source: `npm packages: ${pkgList.join(', ')} (tools/egg_defaults/gen.js)`,
    plugins: Object.fromEntries(Object.entries(plugins).map(([n, p]) => [n, {
      enable: p.enable, package: p.package, version: p.version, env: p.env,
      dependencies: p.dependencies, optionalDependencies: p.optionalDependencies, from: p.from,
    }])),
    load_order: loadOrder.concat([L.eggPkg.name]),
    loader_initial_target: readLoaderInitialTarget(L),
    units,
    runtime_probe: Object.fromEntries(lib.ENVS.map(env => [env, {
      order_plugins: probes[env].orderPlugins,
      core_middleware: probes[env].coreMiddleware,
      app_middleware: probes[env].appMiddleware,
    }])),
  };
  if (L.warnings.length) out.warnings = L.warnings;
  const text = JSON.stringify(out, null, 2) + '\n';
  for (const leak of [installDir, fs.realpathSync(installDir), lib.makeStringScrubber()(installDir)]) {
    if (leak.length > 3 && text.includes(leak)) throw new Error(`output still contains ${leak}`);
  }
  fs.mkdirSync(path.dirname(path.resolve(args.out)), { recursive: true });
  fs.writeFileSync(args.out, text);
  for (const w of L.warnings) process.stderr.write(`warning: ${w}\n`);
  process.stderr.write(`wrote ${args.out}: egg@${L.eggPkg.version}, ${loadOrder.length} plugins, load_order ${out.load_order.join(' ')}\n`);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!args['install-dir']) {
    process.stderr.write('usage: node gen.js --install-dir DIR --out FILE [--date YYYY-MM-DD]\n');
    process.exit(2);
  }
  if (args.probe) return probe(path.resolve(args['install-dir']), args.probe, args['probe-out']);
  if (!args.out) throw new Error('--out is required');
  await generate(args);
}

main().catch(err => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
