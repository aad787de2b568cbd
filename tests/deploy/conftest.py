"""`make package`'s output, built once per session for every deploy test."""

from __future__ import annotations

from typing import Any

import pytest

from devtools.deploy import package as pkg

STAGE = "prod"


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> pkg.Package:
    return pkg.build(tmp_path_factory.mktemp("package"), STAGE)


@pytest.fixture(scope="session")
def template(built: pkg.Package) -> dict[str, Any]:
    return built.load()
