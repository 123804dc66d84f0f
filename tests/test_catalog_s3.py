"""The catalog in a bucket: built through boto3 (moto's ``mock_aws``), queried through pyarrow's S3
filesystem on a real moto server (pyarrow's own HTTP client cannot reach an in-process mock)."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from handlers.catalog.build import rebuild
from handlers.catalog.layout import CARDS, OBSCORE
from handlers.catalog.store import BucketStore
from handlers.cli.main import main
from handlers.layout import metadata_key
from tools.catalog_synthetic import M31, PROPOSID, Synthetic, body, document, synthetic

from .support import OUTPUT
from .test_catalog import within


@pytest.fixture(scope="module")
def survey() -> Synthetic:
    return synthetic(200, seed=5)


def put_documents(client: Any, bucket: str, survey: Synthetic) -> None:
    for key, doc in survey.documents.items():
        client.put_object(Bucket=bucket, Key=metadata_key(key), Body=body(doc))


def table_of(store: BucketStore, table: str) -> pa.Table:
    """A table read back through boto3 alone, file by file."""
    files = sorted(key for key in store.keys(f"catalog/{table}/") if key.endswith(".parquet"))
    return pa.concat_tables([pq.read_table(io.BytesIO(store.read(key) or b"")) for key in files])


def test_rebuild_into_a_mock_bucket(s3: Any, survey: Synthetic) -> None:
    """Row counts, the same files from a second rebuild, then a re-processed object once with its latest values."""
    put_documents(s3, OUTPUT, survey)
    store = BucketStore(s3, OUTPUT)
    report = rebuild(store)
    assert report.documents == 200 and report.rows == {"obscore": 200, "cards": survey.card_count()}
    obscore = table_of(store, "obscore")
    assert sorted(obscore["metadata_key"].to_pylist()) == sorted(survey.metadata_keys)
    assert table_of(store, "cards").num_rows == survey.card_count()
    assert all(key.startswith((OBSCORE.prefix, CARDS.prefix)) for key in report.written)
    first = {key: store.read(key) for key in store.keys("catalog/")}
    again = rebuild(store)
    assert {key: store.read(key) for key in store.keys("catalog/")} == first and again.deleted == []
    key = "survey/obs-0002.fits"
    s3.put_object(Bucket=OUTPUT, Key=metadata_key(key),
                  Body=body(document(2, 300.0, -45.0, np.random.default_rng(3), exptime=777.0)))
    rebuild(store)
    rows = [row for row in table_of(store, "obscore").to_pylist() if row["source_key"] == key]
    assert [(row["s_ra"], row["t_exptime"]) for row in rows] == [(300.0, 777.0)]
    assert table_of(store, "obscore").num_rows == 200


def cli(capsys: pytest.CaptureFixture[str], endpoint: str, bucket: str, *argv: str) -> list[dict[str, Any]]:
    code = main(["catalog", argv[0], "--out", f"s3://{bucket}", "--endpoint-url", endpoint, "--format", "json",
                 *argv[1:]])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    rows: list[dict[str, Any]] = json.loads(captured.out)
    return rows


def test_the_cli_on_a_moto_server(server_buckets: tuple[Any, str, str], moto_endpoint: str, survey: Synthetic,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    client, _, output = server_buckets
    put_documents(client, output, survey)
    assert main(["catalog", "rebuild", "--out", f"s3://{output}", "--endpoint-url", moto_endpoint]) == 0
    assert "200 document(s), 200 obscore row(s)" in capsys.readouterr().out
    counts = cli(capsys, moto_endpoint, output, "query",
                 "SELECT (SELECT count(*) FROM obscore) AS n, (SELECT count(*) FROM cards) AS cards")
    assert counts == [{"n": 200, "cards": survey.card_count()}]
    expected = within(survey, *M31, 1.0)
    rows = cli(capsys, moto_endpoint, output, "cone", str(M31[0]), str(M31[1]), "1")
    assert {row["metadata_key"] for row in rows} == set(expected) and expected
    assert all(row["distance_deg"] == pytest.approx(expected[row["metadata_key"]], abs=1e-9) for row in rows)
    found = cli(capsys, moto_endpoint, output, "query",
                f"SELECT DISTINCT metadata_key FROM cards WHERE keyword = 'PROPOSID' AND value_number = {PROPOSID}")
    assert {row["metadata_key"] for row in found} == survey.with_proposid()
