from aegis.catalog import CATALOG, render_catalog


def test_committed_catalog_is_up_to_date():
    assert CATALOG.read_text() == render_catalog(), "sql/catalog.sql is stale: run `aegis sql --write-catalog`"


def test_catalog_has_no_unresolved_placeholders():
    assert "${" not in render_catalog()
