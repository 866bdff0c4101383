"""A small synthetic catalog shared by the end-to-end tests (built once per session)."""

from pathlib import Path

import pytest

from strategies.catalog_cli import build_synthetic_catalog

SMALL = {"days": 3, "assets": 16, "seed": 42, "scans_per_day": 2400}


@pytest.fixture(scope="session")
def small_catalog(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    build_synthetic_catalog(out=root, progress=False, **SMALL)
    return root
