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


@pytest.fixture(scope="session")
def default_catalog() -> Path:
    """The full default synthetic catalog: ``$DOLPHIN_TEST_CATALOG`` or ./catalog, built when missing."""
    import os

    from strategies.catalog_cli import ensure_default_catalog

    root = Path(os.environ.get("DOLPHIN_TEST_CATALOG", Path(__file__).resolve().parents[2] / "catalog"))
    return ensure_default_catalog(root, progress=False)
