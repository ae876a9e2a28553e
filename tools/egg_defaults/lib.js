'use strict';
// Shared helpers for gen.js and verify.js (no dependencies: runs on plain Node >= 18).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const ENVS = ['prod', 'local', 'unittest', 'test'];
const ENV_FILES = ['prod', 'local', 'unittest'];

// The keys a one-key object may carry when it stands for a non-JSON value.
const TAGS = ['$function', '$regexp', '$buffer', '$set', '$object', '$symbol', '$number', '$circular'];

const hasOwn = Object.prototype.hasOwnProperty;
const toStr = Object.prototype.toString;

// Exactly extend2's isPlainObject (extend2@1.0.1 == extend2@4.0.0): decides what Egg deep-merges.
function isPlainObject(obj) {
  if (!obj || toStr.call(obj) !== '[object Object]') return false;
  const hasOwnConstructor = hasOwn.call(obj, 'constructor');
  const hasIsPrototypeOf = obj.constructor && obj.constructor.prototype &&
    hasOwn.call(obj.constructor.prototype, 'isPrototypeOf');
  if (obj.constructor && !hasOwnConstructor && !hasIsPrototypeOf) return false;
  let key;
  for (key in obj) { /**/ }
  return typeof key === 'undefined' || hasOwn.call(obj, key);
}

function isClass(fn) {
  if (typeof fn !== 'function') return false;
  const s = Function.prototype.toString.call(fn);
  return /^class[\s{]/.test(s);
}

function isTagged(v) {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && TAGS.includes(keys[0]);
}

/**
 * Replace machine paths inside strings by placeholders:
 * `{node_modules}` for the node_modules dir egg is installed in (paths into
 * installed packages, e.g. onerror's templatePath), `{tmpdir}` for os.tmpdir(),
 * `{homedir}` for os.homedir().
 */
function makeStringScrubber(nodeModulesDir) {
  const pairs = [];
  const tmp = os.tmpdir();
  const home = os.homedir();
  const list = [[tmp, '{tmpdir}'], [home, '{homedir}']];
  if (nodeModulesDir) list.push([nodeModulesDir, '{node_modules}']);
  for (const [p, ph] of list) {
    if (!p || p === '/') continue;
    pairs.push([p, ph]);
    try {
      const real = fs.realpathSync(p);
      if (real !== p) pairs.push([real, ph]);
    } catch { /* ignore */ }
  }
  // longest first so that a tmpdir under the home dir is replaced as {tmpdir}
  pairs.sort((a, b) => b[0].length - a[0].length);
  return s => {
    for (const [p, ph] of pairs) {
      // only replace whole path components
      let idx = s.indexOf(p);
      while (idx !== -1) {
        const after = s[idx + p.length];
        if (after === undefined || after === '/' || after === path.sep) {
          s = s.slice(0, idx) + ph + s.slice(idx + p.length);
          idx = s.indexOf(p, idx + ph.length);
        } else {
          idx = s.indexOf(p, idx + 1);
        }
      }
    }
    return s;
  };
}

/**
 * Encode a config value as JSON data (see README "Value encoding").
 * origin: "<pkg>@<ver> <file>" used for functions.
 */
function encode(value, origin, scrub, stack = []) {
  if (value === null) return null;
  const t = typeof value;
  if (t === 'string') return scrub ? scrub(value) : value;
  if (t === 'boolean') return value;
  if (t === 'number') return Number.isFinite(value) ? value : { $number: String(value) };
  if (t === 'bigint') return { $number: String(value) };
  if (t === 'symbol') return { $symbol: String(value) };
  if (t === 'undefined') return undefined;
  if (t === 'function') return { $function: origin };
  if (value instanceof RegExp) return { $regexp: String(value) };
  if (Buffer.isBuffer(value)) return { $buffer: value.byteLength };
  if (stack.includes(value)) return { $circular: true };
  if (value instanceof Set) {
    return { $set: [...value].map(v => encode(v, origin, scrub, stack.concat([value]))).map(v => (v === undefined ? null : v)) };
  }
  if (Array.isArray(value)) {
    return value.map(v => {
      const e = encode(v, origin, scrub, stack.concat([value]));
      return e === undefined ? null : e;
    });
  }
  if (isPlainObject(value)) {
    const out = {};
    for (const key in value) {
      if (key === '__proto__') continue;
      const e = encode(value[key], origin, scrub, stack.concat([value]));
      if (e === undefined) continue; // extend2 skips undefined values
      out[key] = e;
    }
    return out;
  }
  const ctor = value.constructor && value.constructor.name;
  return { $object: ctor || Object.prototype.toString.call(value).slice(8, -1) };
}

/** extend2 deep merge on encoded data: tagged values and arrays replace. */
function merge(target, src) {
  if (src == null) return target;
  for (const key of Object.keys(src)) {
    if (key === '__proto__') continue;
    const copy = src[key];
    if (copy === undefined) continue;
    if (copy && typeof copy === 'object' && !Array.isArray(copy) && !isTagged(copy)) {
      const cur = target[key];
      const base = cur && typeof cur === 'object' && !Array.isArray(cur) && !isTagged(cur) ? cur : {};
      target[key] = merge(base, copy);
    } else {
      target[key] = copy;
    }
  }
  return target;
}

function readJSON(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** Find `<dir>/node_modules/<name>` walking up from each of fromDirs (Node's lookup). */
function findPackageDir(name, fromDirs) {
  for (const from of fromDirs) {
    let dir = from;
    for (;;) {
      const cand = path.join(dir, 'node_modules', name, 'package.json');
      if (fs.existsSync(cand)) return fs.realpathSync(path.dirname(cand));
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return null;
}

/** Resolve the ESM (`import`) entry of a package directory. */
function esmEntry(pkgDir, sub = '.') {
  const pkg = readJSON(path.join(pkgDir, 'package.json'));
  let target;
  const exp = pkg.exports;
  if (exp) {
    let e = typeof exp === 'string' || Array.isArray(exp) ? exp : (exp[sub] !== undefined ? exp[sub] : (sub === '.' ? exp : undefined));
    const pick = x => {
      if (typeof x === 'string') return x;
      if (Array.isArray(x)) return pick(x[0]);
      if (x && typeof x === 'object') {
        for (const c of ['import', 'node', 'default', 'require']) {
          if (x[c] !== undefined) return pick(x[c]);
        }
      }
      return undefined;
    };
    target = pick(e);
  }
  if (!target) target = pkg.module || pkg.main || 'index.js';
  return pathToFileURL(path.join(pkgDir, target)).href;
}

function rel(pkgDir, file) {
  return path.relative(pkgDir, file).split(path.sep).join('/');
}

module.exports = {
  ENVS, ENV_FILES, TAGS,
  isPlainObject, isClass, isTagged, makeStringScrubber, encode, merge,
  readJSON, findPackageDir, esmEntry, rel,
};
