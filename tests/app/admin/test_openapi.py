"""The OpenAPI document the API serves is the routes it registers, each with its scope."""

from __future__ import annotations

from pathlib import Path

from bridge.app.admin.openapi import OPERATIONS, document
from bridge.app.root import Bridge
from bridge.state import MemoryState

from .admin_parts import admin_config


def _served_routes(tmp_path: Path) -> set[tuple[str, str]]:
    bridge = Bridge(admin_config(tmp_path), MemoryState())
    assert bridge.admin is not None
    return {
        (route.method, route.resource.canonical)
        for route in bridge.admin.app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }


def test_every_registered_route_is_documented_and_every_documented_one_registered(
    tmp_path: Path,
) -> None:
    documented = {(operation.method, operation.path) for operation in OPERATIONS}
    assert _served_routes(tmp_path) == documented


def test_the_document_lists_each_operation_once_with_its_scope_and_path_parameters() -> None:
    paths = document()["paths"]
    assert isinstance(paths, dict)
    found = {(method.upper(), path) for path, methods in paths.items() for method in methods}
    assert found == {(operation.method, operation.path) for operation in OPERATIONS}
    kick = paths["/v1/binds/{instance}/{session_id}/unbind"]["post"]
    assert kick["x-scope"] == "operate"
    assert [p["name"] for p in kick["parameters"]] == ["instance", "session_id"]
    assert paths["/v1/status"]["get"]["x-scope"] == "read"


def test_every_route_is_versioned_and_every_change_needs_operate() -> None:
    for operation in OPERATIONS:
        assert operation.path.startswith("/v1/")
        assert operation.scope == ("read" if operation.method == "GET" else "operate")
