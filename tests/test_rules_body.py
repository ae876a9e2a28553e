"""Body parsing and upload rules EGG-CFG-020..027: limits parsed like Egg parses them, whitelist functions
judged on their syntax tree, the default upload list judged by whether uploads are served back."""

from __future__ import annotations

import pytest

import appfactory
from appfactory import make_app
from appfactory import rule_findings as findings
from eggshield.checks.body import categorize, parse_bytes

D, PROD, LOCAL, PLUGIN = appfactory.D, appfactory.PROD, appfactory.LOCAL, appfactory.PLUGIN


def app_with(tmp_path, files, *, egg="^3.17.0"):
    return make_app(tmp_path, {D: "exports.keys = process.env.EGG_KEYS;\n", **files}, egg=egg)




def cfg(line: str) -> str:
    return f"exports.keys = process.env.EGG_KEYS;\n{line}\n"


@pytest.mark.parametrize("text,expected", [
    ("2gb", 2 * 1024**3), ("100mb", 100 * 1024**2), ("1.5MB", int(1.5 * 1024**2)), ("512kb", 512 * 1024),
    ("4096mb", 4096 * 1024**2), ("10", 10), (1048576, 1048576), ("  3 GB ", 3 * 1024**3),
    ("lots", None), (True, None), (None, None),
])
def test_parse_bytes_reads_sizes_like_the_bytes_package(text, expected):
    assert parse_bytes(text) == expected


def test_extension_categories_come_from_the_data_file():
    cats = categorize([".html", ".php", ".png", ".node", ".css"])
    assert cats == {"browser_active": [".html"], "server_executable": [".php"], "native_code": [".node"],
                    "style": [".css"]}


# ---- EGG-CFG-020 body limits ------------------------------------------------------------------
@pytest.mark.parametrize("line,key,severity", [
    ("exports.bodyParser = { jsonLimit: '200mb' };", "bodyParser.jsonLimit", "medium"),
    ("exports.bodyParser = { formLimit: '20mb' };", "bodyParser.formLimit", "low"),
    ("exports.bodyParser = { jsonLimit: 2 * 1024 * 1024 * 1024 };", "bodyParser.jsonLimit", "medium"),
    ("exports.bodyParser = { enableTypes: ['json', 'form', 'text'], textLimit: '1gb' };", "bodyParser.textLimit", "medium"),
])
def test_body_limits_fire(tmp_path, line, key, severity):
    [f] = findings(app_with(tmp_path, {D: cfg(line)}), "EGG-CFG-020")
    assert (f.config_key, f.severity, f.cwe, f.location.line) == (key, severity, 770, 2)


@pytest.mark.parametrize("files", [
    {D: cfg("exports.bodyParser = { jsonLimit: '5mb', formLimit: '10mb' };")},
    {D: cfg("exports.bodyParser = { textLimit: '1gb' };")},  # text bodies are not parsed unless enabled
    {D: cfg("exports.bodyParser = { jsonLimit: process.env.JSON_LIMIT || '1mb' };")},
    {LOCAL: "exports.bodyParser = { jsonLimit: '500mb' };"},
    {D: cfg("exports.bodyParser = { enable: false, jsonLimit: '500mb' };")},
])
def test_body_limit_near_misses(tmp_path, files):
    assert findings(app_with(tmp_path, files), "EGG-CFG-020") == []


def test_body_limit_computed_at_run_time_is_needs_review(tmp_path):
    line = "exports.bodyParser = { jsonLimit: require('os').totalmem() / 4 };"
    [f] = findings(app_with(tmp_path, {D: cfg(line)}), "EGG-CFG-020")
    assert (f.severity, f.confidence) == ("low", "low") and "Needs review" in f.message


def test_body_limit_from_an_unset_env_var_keeps_eggs_default(tmp_path):
    """`process.env.X` undefined is skipped by Egg's merge: the default '1mb' stays."""
    line = "exports.bodyParser = { jsonLimit: process.env.JSON_LIMIT };"
    assert findings(app_with(tmp_path, {D: cfg(line)}), "EGG-CFG-020") == []


def test_body_limit_only_in_local_is_low_when_scanning_local(tmp_path):
    [f] = findings(app_with(tmp_path, {LOCAL: "exports.bodyParser = { jsonLimit: '500mb' };"}), "EGG-CFG-020",
                   env="local")
    assert f.severity == "low" and f.location.path == LOCAL


# ---- EGG-CFG-021 strict / EGG-CFG-022 queryString / EGG-CFG-027 prototype keys ----------------
def test_strict_off_fires_and_default_does_not(tmp_path):
    [f] = findings(app_with(tmp_path / "a", {D: cfg("exports.bodyParser = { strict: false };")}), "EGG-CFG-021")
    assert (f.severity, f.cwe) == ("low", 20)
    assert findings(app_with(tmp_path / "b", {D: cfg("exports.bodyParser = { strict: true };")}), "EGG-CFG-021") == []
    no_json = cfg("exports.bodyParser = { strict: false, enableTypes: ['form'] };")
    assert findings(app_with(tmp_path / "c", {D: no_json}), "EGG-CFG-021") == []


@pytest.mark.parametrize("qs,key,severity", [
    ("depth: 10", "bodyParser.queryString.depth", "low"),
    ("parameterLimit: 100000", "bodyParser.queryString.parameterLimit", "medium"),
    ("arrayLimit: Infinity", "bodyParser.queryString.arrayLimit", "medium"),
])
def test_query_string_limits_fire(tmp_path, qs, key, severity):
    [f] = findings(app_with(tmp_path, {D: cfg(f"exports.bodyParser = {{ queryString: {{ {qs} }} }};")}), "EGG-CFG-022")
    assert (f.config_key, f.severity) == (key, severity)


def test_query_string_near_miss(tmp_path):
    line = "exports.bodyParser = { queryString: { depth: 5, arrayLimit: 20, parameterLimit: 1000 } };"
    assert findings(app_with(tmp_path, {D: cfg(line)}), "EGG-CFG-022") == []


def test_proto_poisoning_ignore_fires(tmp_path):
    line = "exports.bodyParser = { onProtoPoisoning: 'ignore', queryString: { allowPrototypes: true } };"
    found = {f.config_key: f for f in findings(app_with(tmp_path, {D: cfg(line)}), "EGG-CFG-027")}
    assert found["bodyParser.onProtoPoisoning"].severity == "medium"
    assert found["bodyParser.queryString.allowPrototypes"].severity == "low"
    assert found["bodyParser.onProtoPoisoning"].cwe == 1321


def test_proto_poisoning_remove_is_fine(tmp_path):
    assert findings(app_with(tmp_path, {D: cfg("exports.bodyParser = { onProtoPoisoning: 'remove' };")}),
                    "EGG-CFG-027") == []


# ---- EGG-CFG-023 whitelist functions -----------------------------------------------------------
@pytest.mark.parametrize("fn", [
    "filename => true",
    "() => 1",
    "function (name) { return true; }",
    "name => { if (name) { return 'yes'; } return !0; }",
])
def test_whitelist_accepting_everything_fires_high(tmp_path, fn):
    [f] = findings(app_with(tmp_path, {D: cfg(f"exports.multipart = {{ whitelist: {fn} }};")}), "EGG-CFG-023")
    assert (f.severity, f.cwe, f.config_key, f.location.line) == ("high", 434, "multipart.whitelist", 2)


def test_unanchored_whitelist_regex_fires_medium(tmp_path):
    line = r"exports.multipart = { whitelist: name => /\.(png|jpe?g)/i.test(name) };"
    [f] = findings(app_with(tmp_path, {D: cfg(line)}), "EGG-CFG-023")
    assert f.severity == "medium" and "photo.png.html" in f.message


@pytest.mark.parametrize("fn", [
    r"name => /\.(png|jpe?g)$/i.test(name)",
    "name => ['.png', '.jpg'].includes(require('path').extname(name).toLowerCase())",
    "() => { throw new Error('uploads are closed'); }",
    "name => { if (name.endsWith('.png')) return true; return false; }",
    "name => false",
])
def test_whitelist_function_near_misses(tmp_path, fn):
    assert findings(app_with(tmp_path, {D: cfg(f"exports.multipart = {{ whitelist: {fn} }};")}), "EGG-CFG-023") == []


def test_whitelist_accept_all_in_typescript_config(tmp_path):
    app = make_app(tmp_path, {"config/config.default.ts": "import { EggAppConfig } from 'egg';\n"
                                                         "export default () => {\n"
                                                         "  const config = {} as EggAppConfig;\n"
                                                         "  config.multipart = { whitelist: (filename: string) => true };\n"
                                                         "  return config;\n};\n",
                              "tsconfig.json": "{}"}, pkg={"egg": {"typescript": True}})
    [f] = findings(app, "EGG-CFG-023")
    assert f.severity == "high" and f.location.line == 4


# ---- served-back uploads (EGG-CFG-024 / 025) ----------------------------------------------------
SERVED_UPLOAD = """const fs = require('fs');
const path = require('path');
const { pipeline } = require('stream/promises');
module.exports = app => class extends app.Controller {
  async upload() {
    const stream = await this.ctx.getFileStream();
    const target = path.join(this.config.baseDir, 'app/public', stream.filename);
    await pipeline(stream, fs.createWriteStream(target));
    this.ctx.redirect('/public/' + stream.filename);
  }
};
"""
TMP_UPLOAD = SERVED_UPLOAD.replace("path.join(this.config.baseDir, 'app/public', stream.filename)",
                                   "path.join(require('os').tmpdir(), 'uploads', String(Date.now()))")
CONFIG_STATIC_UPLOAD = """const fs = require('fs');
const path = require('path');
module.exports = app => class extends app.Controller {
  async create() {
    const { ctx, app } = this;
    const stream = await ctx.getFileStream();
    const { public_uploads_path } = app.config.static;
    const target = path.join(public_uploads_path, stream.filename);
    stream.pipe(fs.createWriteStream(target));
  }
};
"""
MULTI_UPLOAD_TS = """import { Controller } from 'egg';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
export default class Upload extends Controller {
  async many() {
    for (const file of this.ctx.request.files) {
      const dest = path.join(this.app.baseDir, 'app', 'public', 'avatars', file.filename);
      await fs.copyFile(file.filepath, dest);
    }
  }
}
"""
UP = "app/controller/upload.js"


def test_dangerous_file_extensions_fire_and_escalate_when_served_back(tmp_path):
    line = cfg("exports.multipart = { fileExtensions: ['.html', '.php'] };")
    [f] = findings(app_with(tmp_path / "a", {D: line}), "EGG-CFG-024")
    assert (f.severity, f.config_key, f.location.line) == ("medium", "multipart.fileExtensions", 2)
    assert ".html" in f.message and ".php" in f.message
    [g] = findings(app_with(tmp_path / "b", {D: line, UP: SERVED_UPLOAD}), "EGG-CFG-024")
    assert g.severity == "high" and "app/controller/upload.js:8" in g.message


@pytest.mark.parametrize("line,severity", [
    ("exports.multipart = { fileExtensions: ['.node', '.heapsnapshot'] };", "low"),
    ("exports.multipart = { whitelist: ['.png', '.svg'] };", "medium"),
    ("exports.multipart = { fileExtensions: ['PHTML'] };", "medium"),  # Egg lower-cases and adds the dot
])
def test_dangerous_extension_categories(tmp_path, line, severity):
    [f] = findings(app_with(tmp_path, {D: cfg(line)}), "EGG-CFG-024")
    assert f.severity == severity


@pytest.mark.parametrize("line", [
    "exports.multipart = { fileExtensions: ['.doc', '.docx', '.apk', '.pptx'] };",
    "exports.multipart = { whitelist: ['.png', '.jpg'], fileExtensions: ['.html'] };",  # ignored next to a whitelist
    "exports.multipart = { fileExtensions: ['.css'] };",  # a stylesheet matters only when served back
])
def test_dangerous_extension_near_misses(tmp_path, line):
    assert findings(app_with(tmp_path, {D: cfg(line)}), "EGG-CFG-024") == []


@pytest.mark.parametrize("files,where", [
    ({UP: SERVED_UPLOAD}, "app/controller/upload.js:8"),
    ({UP: CONFIG_STATIC_UPLOAD}, "app/controller/upload.js:9"),
    ({"app/controller/upload.ts": MULTI_UPLOAD_TS, "tsconfig.json": "{}"}, "app/controller/upload.ts:8"),
])
def test_default_list_fires_when_uploads_are_served_back(tmp_path, files, where):
    [f] = findings(app_with(tmp_path, files), "EGG-CFG-025")
    assert (f.severity, f.cwe, f.config_key) == ("medium", 434, "multipart.whitelist")
    assert where in f.message and ".svg" in f.message and f.location.path == D


@pytest.mark.parametrize("files", [
    {UP: TMP_UPLOAD},  # kept outside the static dirs
    {UP: SERVED_UPLOAD, D: cfg("exports.multipart = { whitelist: ['.png', '.jpg'] };")},
    {UP: SERVED_UPLOAD, PLUGIN: "exports.static = false;"},
    {UP: SERVED_UPLOAD, D: cfg("exports.static = { dir: require('path').join(__dirname, '../assets') };")},
    # writes into app/public, but no upload is read in that file
    {"app/controller/report.js": SERVED_UPLOAD.replace("await this.ctx.getFileStream()", "makeReport()")},
])
def test_default_list_near_misses(tmp_path, files):
    assert findings(app_with(tmp_path, files), "EGG-CFG-025") == []


def test_accept_all_whitelist_mentions_served_back_uploads(tmp_path):
    app = app_with(tmp_path, {D: cfg("exports.multipart = { whitelist: () => true };"), UP: CONFIG_STATIC_UPLOAD})
    [f] = findings(app, "EGG-CFG-023")
    assert "config.static" in f.message


# ---- EGG-CFG-026 multipart limits ---------------------------------------------------------------
@pytest.mark.parametrize("line,key,severity", [
    ("exports.multipart = { fileSize: '4096mb', mode: 'file' };", "multipart.fileSize", "medium"),
    ("exports.multipart = { fileSize: '200mb' };", "multipart.fileSize", "low"),
    ("exports.multipart = { files: 500 };", "multipart.files", "low"),
    ("exports.multipart = { fields: 50000 };", "multipart.fields", "medium"),
])
def test_multipart_limits_fire(tmp_path, line, key, severity):
    [f] = findings(app_with(tmp_path, {D: cfg(line)}), "EGG-CFG-026")
    assert (f.config_key, f.severity, f.cwe) == (key, severity, 770)


@pytest.mark.parametrize("files", [
    {},
    {D: cfg("exports.multipart = { fileSize: '50mb', files: 20 };")},
    {LOCAL: "exports.multipart = { fileSize: '4gb' };"},
    {D: cfg("exports.multipart = { fileSize: '4gb' };"), PLUGIN: "exports.multipart = false;"},
])
def test_multipart_limit_near_misses(tmp_path, files):
    assert findings(app_with(tmp_path, files), "EGG-CFG-026") == []


def test_rule_pages_have_every_section():
    from eggshield.checks.registry import REGISTRY, all_rules

    all_rules()
    for rid in ("EGG-CFG-020", "EGG-CFG-021", "EGG-CFG-022", "EGG-CFG-023", "EGG-CFG-024", "EGG-CFG-025",
                "EGG-CFG-026", "EGG-CFG-027"):
        doc = REGISTRY[rid].doc
        for section in ("## What", "## Why it matters", "## How to fix", "```", "## Not reported", "## References"):
            assert section in doc, (rid, section)
        assert "{fix}" not in doc


# ---- Egg is the oracle: the default list really lets an SVG in, and egg-static serves it back ------
RECORDINGS = __import__("pathlib").Path(__file__).parent / "fixtures" / "live-config-rules"
LIVE_UPLOAD = {
    D: "exports.keys = 'live-test-key-not-a-secret-0123456789';\n"
       "exports.security = { csrf: { ignore: '/upload' } };\n",
    "app/router.js": "module.exports = app => { app.router.post('/upload', app.controller.upload.create); };\n",
    "app/controller/upload.js": """const fs = require('fs');
const path = require('path');
const { pipeline } = require('stream/promises');
module.exports = app => class extends app.Controller {
  async create() {
    const stream = await this.ctx.getFileStream();
    const name = path.basename(stream.filename);
    await pipeline(stream, fs.createWriteStream(path.join(this.config.baseDir, 'app/public', name)));
    this.ctx.body = '/public/' + name;
  }
};
""",
    "app/public/.keep": "",
}
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)"></svg>'


def test_default_upload_list_lets_svg_through_and_it_is_served_back(tmp_path):
    from eggrt.observe import Req, observe

    app = make_app(tmp_path / "app", LIVE_UPLOAD, egg="^3.17.0", name="live")
    up, served, php = observe(app, [
        Req("/upload", "POST", upload=("file", "avatar.svg", SVG)),
        Req("/public/avatar.svg"),
        Req("/upload", "POST", headers={"Accept": "application/json"},
            upload=("file", "shell.php", b"<?php system($_GET['c']);")),
    ], RECORDINGS / "upload-default-list.json")
    assert (up.status, up.body) == (200, "/public/avatar.svg")
    assert served.status == 200 and served.headers["content-type"].startswith("image/svg+xml")
    assert "onload" in served.body  # stored XSS from the app's own origin
    assert php.status == 400 and "Invalid filename" in php.body  # .php is not on the built-in list
    [f] = findings(app, "EGG-CFG-025")
    assert "app/controller/upload.js:8" in f.message
    assert findings(app, "EGG-CFG-024") == [] and findings(app, "EGG-CFG-023") == []
