"""The OpenAPI document: committed, up to date, served at /api/openapi.json, and listing exactly
the app's routes, each described, with request bodies from the pydantic models routes validate."""

from __future__ import annotations

import json
import re
from typing import Any

from app import app
from chalicelib.api.openapi import DOCUMENT
from devtools import openapi


def document() -> dict[str, Any]:
    return json.loads(DOCUMENT.read_text())


def test_the_committed_document_is_up_to_date() -> None:
    assert DOCUMENT.read_text() == openapi.render(openapi.build()), "run `make openapi`"


def test_it_lists_every_route_and_nothing_else() -> None:
    routes = {(method.lower(), path) for path, methods in openapi.api_routes(app).items()
              for method in methods}
    listed = {(method, path) for path, methods in document()["paths"].items() for method in methods}
    assert listed == routes


def test_every_route_is_described() -> None:
    undescribed = sorted(f"{m.upper()} {p}" for p, ms in document()["paths"].items()
                         for m, op in ms.items() if op["tags"] == ["undescribed"])
    assert not undescribed, f"describe these in devtools/openapi.py ROUTES: {undescribed}"


def test_request_bodies_come_from_the_models_the_routes_validate_with() -> None:
    schemas = document()["components"]["schemas"]
    for name, model in openapi.request_models().items():
        assert schemas[name]["properties"].keys() == model.model_json_schema()["properties"].keys()
    body = document()["paths"]["/api/pages/{slug}/donations"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/DonationRequest"}
    refs = set(re.findall(r"#/components/schemas/\w+", DOCUMENT.read_text()))
    assert {r.rsplit("/", 1)[1] for r in refs} <= schemas.keys()


def test_staff_routes_declare_the_key_and_roles() -> None:
    for path, methods in document()["paths"].items():
        for op in methods.values():
            if path.startswith("/api/admin") or path.startswith("/api/exports"):
                assert op["security"] == [{"staffKey": []}] and "admin" in op["x-roles"]
                assert {"401", "403"} <= op["responses"].keys()


def test_served_at_api_openapi_json(client) -> None:
    response = client.http.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.body) == document()


def test_it_loads_as_openapi_3_1() -> None:
    import schemathesis

    schema = schemathesis.openapi.from_dict(document())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == sum(len(methods) for methods in openapi.api_routes(app).values())
