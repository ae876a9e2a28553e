"""Route discovery from an Egg app's router files (never run): what `probe --project` requests."""

from __future__ import annotations

import pytest

from appfactory import make_app
from eggshield.probe.model import Route
from eggshield.probe.routes import discover_routes, parse_route_option, routes_from_source
from eggshield.project.discover import discover
from probe_support import FIXTURES


def _routes(src: str, name: str = "app/router.js") -> list[tuple[str, str]]:
    found, _notes = routes_from_source(src, name)
    return [(r.method, r.path) for r in found]


def test_fixture_router_with_split_files_and_namespace():
    project = discover(FIXTURES / "egg3-weak").projects[0]
    routes, notes, problems = discover_routes(project)
    pairs = [(r.method, r.path) for r in routes]
    assert pairs[:5] == [("GET", "/"), ("GET", "/visit"), ("GET", "/users/:id"), ("POST", "/api/items"),
                         ("PUT", "/api/items/:id")]
    assert ("DELETE", "/admin/cache") in pairs
    admin = next(r for r in routes if r.path == "/admin/cache")
    assert admin.file == "app/router/admin.js" and admin.line == 5
    assert not notes and not problems


def test_resources_expand_to_egg_rest_map():
    pairs = _routes("module.exports = app => { app.router.resources('posts', '/posts', app.controller.posts); };")
    assert pairs == [("GET", "/posts"), ("GET", "/posts/new"), ("GET", "/posts/:id"), ("GET", "/posts/:id/edit"),
                     ("POST", "/posts"), ("PATCH", "/posts/:id"), ("PUT", "/posts/:id"), ("DELETE", "/posts/:id")]


def test_typescript_router_named_routes_and_chained_namespace():
    src = """import { Application } from 'egg';
export default (app: Application) => {
  const { controller, router } = app;
  const api = router.namespace('/api/v1');
  api.get('/users/:id', controller.user.show);
  router.namespace('/admin').post('login', '/login', controller.admin.login);
  (app.router as any).del(`/t`, controller.x);
};"""
    assert _routes(src, "app/router.ts") == [("GET", "/api/v1/users/:id"), ("POST", "/admin/login"), ("DELETE", "/t")]


def test_dynamic_paths_are_skipped_with_a_note():
    found, notes = routes_from_source("module.exports = app => { app.router.get(/^\\/re/, x); app.router.get(P, x); };",
                                      "app/router.js")
    assert found == []
    assert notes == ["app/router.js:1: route path is a RegExp; not probed",
                     "app/router.js:1: route path is a value known only at run time; not probed"]


def test_path_arrays_register_each_path():
    assert _routes("module.exports = ({ router }) => { router.get(['/dr-admin', '/admin/login'], c); };") == \
        [("GET", "/dr-admin"), ("GET", "/admin/login")]


def test_router_without_literal_routes_says_so(tmp_path):
    app = make_app(tmp_path / "app", {"app/router.ts": "export default (app) => { initRouter(app); };",
                                      "config/config.default.js": "exports.keys = 'k';"})
    routes, notes, problems = discover_routes(discover(app).projects[0])
    assert routes == [] and problems == []
    assert notes == ["no route found in the router files (routes registered by decorators or helpers?): "
                     "give --route for the paths to probe"]


def test_other_objects_named_get_are_not_routes():
    assert _routes("module.exports = app => { const m = new Map(); m.get('/x'); app.config.get('/y'); };") == []


def test_broken_router_file_is_one_problem_line(tmp_path):
    app = make_app(tmp_path / "app", {"app/router.js": "module.exports = app => { app.router.get('/x', ;",
                                      "config/config.default.js": "exports.keys = 'k';"})
    routes, _notes, problems = discover_routes(discover(app).projects[0])
    assert routes == []
    assert len(problems) == 1 and "syntax error at line 1" in problems[0].message


def test_concrete_paths():
    assert Route("GET", "/users/:id/posts/:postId").concrete("1") == "/users/1/posts/1"
    assert Route("GET", "/files/:name.json").concrete("x") == "/files/x.json"
    assert Route("GET", "/a/:id(\\d+)").concrete("1") == "/a/1"
    assert not Route("GET", "/plain").has_params


@pytest.mark.parametrize("spec, expected", [("/login", ("ANY", "/login")), ("post /api/x", ("POST", "/api/x"))])
def test_route_option(spec, expected):
    r = parse_route_option(spec)
    assert (r.method, r.path, r.source) == (*expected, "user")


@pytest.mark.parametrize("spec", ["login", "FETCH /x", "GET http://other/x"])
def test_route_option_errors(spec):
    with pytest.raises(ValueError):
        parse_route_option(spec)
