"""The processing job on local Spark: real rows, both layouts, every rejection reason, the quality
gate, idempotent and interrupted runs, and the inputs it must refuse."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from jobs.enem.schema import (
    DERIVED,
    LAYOUTS_BY_NAME,
    MICRODADOS_ORIGINAL_COLUMNS,
    PUBLIC_MICRODATA_COLUMNS,
    RESTRICTED_MICRODATA_COLUMNS,
    age_band,
)
from jobs.process import csv_to_parquet as job
from jobs.process import pipeline, runs, tables, transforms
from jobs.process.runs import Options, ProcessingError, QualityGateError
from jobs.storage import LocalStorage
from lake.samples import REAL_ROWS, SHARED, real_rows_available, real_rows_csv, to_lgpd
from tests.enem_rows import itens_csv, microdata_csv, microdata_line

DATASET = "microdados_enem_2019"
MICRO = "MICRODADOS_ENEM_2019.csv"
TABLE = "microdados_enem_2019"
needs_real_rows = pytest.mark.skipif(
    not real_rows_available(),
    reason=f"real ENEM rows not found in {SHARED} (they are not part of the repository)")


@pytest.fixture(scope="module")
def spark():
    session = job.local_session("lake-tests")
    job.tune(session)
    yield session


class Lake:
    """One stack's zones in a temporary folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.raw, self.processed, self.restricted, self.rejected = (
            root / z for z in ("raw", "processed", "restricted", "rejected"))

    def ingest(self, files: dict[str, bytes], stamp: str = "20261125T000000Z",
               dataset: str = DATASET, complete: bool = True) -> Path:
        folder = self.raw / dataset / f"ingest={stamp}"
        folder.mkdir(parents=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        if complete:
            (folder / "_manifest.json").write_text(json.dumps({"files": sorted(files)}))
        return folder

    def options(self, **kwargs) -> Options:
        return Options(raw=str(self.raw), processed=str(self.processed),
                       restricted=str(self.restricted), rejected=str(self.rejected), **kwargs)

    def run(self, spark, **kwargs) -> runs.RunSummary:
        return pipeline.run(spark, self.options(**kwargs))

    def table(self, name: str = TABLE):
        """The table analysts read (processed zone)."""
        return pq.read_table(self.processed / name)

    def restricted_table(self, name: str = TABLE):
        return pq.read_table(self.restricted / name)

    def staged(self) -> list[Path]:
        return [*(self.processed / "_staging").glob("*/*"),
                *(self.restricted / "_staging").glob("*/*")]

    def summaries(self) -> list[dict]:
        folder = self.processed / "_runs"
        return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] \
            if folder.exists() else []

    def rejected_rows(self, name: str = TABLE) -> list[dict]:
        return [json.loads(line) for path in sorted((self.rejected / name).rglob("*.json"))
                for line in path.read_text().splitlines() if line]


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "dev")


# --- real rows -------------------------------------------------------------------------------

@needs_real_rows
@pytest.mark.parametrize("layout", ["original", "lgpd"])
def test_real_rows_convert_without_a_single_rejection(spark, lake: Lake, layout: str) -> None:
    data = real_rows_csv() if layout == "original" else to_lgpd(real_rows_csv())
    lake.ingest({MICRO: data})
    summary = lake.run(spark)

    report = summary.tables[TABLE]
    assert report.layout == f"microdados-{layout}"
    assert (report.rows_read, report.rows_written, report.rows_rejected) == (REAL_ROWS,
                                                                             REAL_ROWS, 0)
    table = lake.table()
    assert table.num_rows == REAL_ROWS
    # Analysts get the re-release's 76 columns from either release, in its order.
    assert table.column_names[:-2] == [c.lower() for c in PUBLIC_MICRODATA_COLUMNS
                                       if c.lower() not in ("nu_ano", "sg_uf_prova")]
    assert len(table.column_names) == 76
    types = {field.name: str(field.type) for field in table.schema}
    assert types["nu_inscricao"] == "int64"
    assert types["nu_nota_mt"] == "double"
    assert types["tp_presenca_mt"] == "int32"
    assert types["tp_sexo"] == "string"
    assert types["sg_uf_prova"] == "dictionary<values=string, indices=int32, ordered=0>"
    towns = set(table.column("no_municipio_prova").to_pylist())
    assert {"Santarém", "Mãe do Rio"} <= towns
    assert "nu_idade" not in table.column_names and types["tp_faixa_etaria"] == "int32"
    if layout == "original":  # every column of the release, in the restricted zone only
        full = lake.restricted_table()
        assert full.num_rows == REAL_ROWS and len(full.column_names) == 137  # + the age band
        row = full.filter(pq_equal(full, "nu_inscricao", 190001015575)).to_pylist()
        assert row[0]["no_municipio_residencia"] == "Boa Vista"  # the first RR row, as INEP
        assert row[0]["nu_nota_mt"] == pytest.approx(448.3)      # published it
        assert row[0]["nu_nota_redacao"] == 460
        assert report.restricted_columns == 137 and report.public_columns == 76
        # the public band is INEP's banding of the restricted age, row for row
        ages = dict(zip(full.column("nu_inscricao").to_pylist(),
                        full.column("nu_idade").to_pylist(), strict=True))
        for key, band in zip(table.column("nu_inscricao").to_pylist(),
                             table.column("tp_faixa_etaria").to_pylist(), strict=True):
            assert band == (None if ages[key] is None else age_band(ages[key])), key
    else:
        assert not lake.restricted.exists()
        assert report.restricted == "none: every column of microdados-lgpd is public"


def pq_equal(table, column: str, value):
    return pc.equal(table.column(column), value)


@needs_real_rows
def test_output_is_partitioned_by_year_and_state_with_few_files(spark, lake: Lake) -> None:
    lake.ingest({MICRO: real_rows_csv()})
    lake.run(spark)
    partitions = sorted(p for p in (lake.processed / TABLE).glob("nu_ano=*/sg_uf_prova=*"))
    assert [p.parent.name for p in partitions] == ["nu_ano=2019"] * len(partitions)
    assert len(partitions) == 25  # the exam states present in these rows
    for partition in partitions:
        files = list(partition.glob("*.parquet"))
        assert 1 <= len(files) <= 4
        assert all(".zstd." in f.name for f in files)
        assert all(f.stat().st_size < 1 << 30 for f in files)


@pytest.mark.parametrize("layout", ["microdados-original", "microdados-lgpd"])
def test_columns_whose_values_hardly_repeat_are_written_without_a_dictionary(
        spark, lake: Lake, layout: str) -> None:
    """On real data the writer drops these columns' dictionaries anyway (nearly one value per
    row); here every row has the same answers, which would keep a dictionary if one were
    built. The other columns keep theirs."""
    lines = [microdata_line(layout, number=n) for n in range(1, 41)]
    lake.ingest({MICRO: microdata_csv(lines, layout)})
    lake.run(spark)
    zone = lake.restricted if layout == "microdados-original" else lake.processed
    files = sorted((zone / TABLE).rglob("*.parquet"))
    assert files
    plain = set(LAYOUTS_BY_NAME[layout].plain)
    assert plain >= {"nu_inscricao", "tx_respostas_cn", "tx_respostas_mt"}
    for path in files:
        chunks = pq.ParquetFile(path).metadata.row_group(0)
        dictionary = {chunks.column(i).path_in_schema: chunks.column(i).has_dictionary_page
                      for i in range(chunks.num_columns)}
        assert not any(dictionary[c] for c in plain), dictionary
        assert dictionary["tp_sexo"] and dictionary["no_municipio_prova"]


# --- synthetic rows: each rejection reason ---------------------------------------------------

BAD_LINES = {
    "field_count": lambda: microdata_line(number=2) + ";extra",
    "type:nu_idade": lambda: microdata_line(number=3, NU_IDADE="dezoito"),
    "type:co_prova_mt": lambda: microdata_line(number=4, CO_PROVA_MT="515.5"),
    "domain:nu_nota_mt": lambda: microdata_line(number=5, NU_NOTA_MT="1200.5"),
    "domain:sg_uf_prova": lambda: microdata_line(number=6, SG_UF_PROVA="XX"),
    "domain:nu_nota_comp1": lambda: microdata_line(number=7, NU_NOTA_COMP1="130",
                                                   NU_NOTA_REDACAO="570"),
    "domain:tx_respostas_cn": lambda: microdata_line(number=8, TX_RESPOSTAS_CN="ABC"),
    "rule:essay_total": lambda: microdata_line(number=9, NU_NOTA_REDACAO="580"),
    "rule:presence_mt": lambda: microdata_line(number=10, TP_PRESENCA_MT="0"),
}


@pytest.mark.parametrize("second_pass", ["refused lines' buckets", "every line"])
def test_every_bad_row_is_rejected_with_its_reason_and_line(spark, lake: Lake, second_pass: str,
                                                          monkeypatch, caplog) -> None:
    if second_pass == "every line":
        monkeypatch.setattr(tables, "MAX_FILTER_BUCKETS", 0)
    good = [microdata_line(number=100 + i) for i in range(300)]
    bad = {reason: make() for reason, make in BAD_LINES.items()}
    lake.ingest({MICRO: microdata_csv(good + list(bad.values()))})
    with caplog.at_level(logging.INFO, "lake.process"):
        summary = lake.run(spark, max_rejected_share=0.05)
    assert "found again" not in caplog.text  # the first way of finding them found them all

    report = summary.tables[TABLE]
    assert report.rows_read == 300 + len(bad)
    assert report.rows_written == 300
    assert report.rows_rejected == len(bad)
    assert report.rows_read == report.rows_written + report.rows_rejected
    assert set(report.rejected_by_reason) >= set(bad)
    rejected = {row["line"]: row for row in lake.rejected_rows()}
    assert set(rejected) == set(bad.values())  # the raw line, exactly as it was in the file
    for reason, line in bad.items():
        row = rejected[line]
        assert reason in row["reasons"], (reason, row)
        assert row["file"].endswith(MICRO)
        assert row["position"] == "nu_inscricao=" + line.split(";")[0]
        assert row["detail"]
    assert "nu_nota_mt: 1200.5 is outside 0..1000" in rejected[bad["domain:nu_nota_mt"]]["detail"]
    assert "expected 136" in rejected[bad["field_count"]]["detail"]
    assert lake.table().num_rows == 300
    assert json.loads((lake.processed / "_runs" / f"{summary.run_id}.json").read_text())[
        "tables"][TABLE]["rejected_by_reason"]["rule:essay_total"] == 1


def test_a_refused_line_is_found_again_however_its_number_is_written(spark, lake: Lake,
                                                                      caplog) -> None:
    """The second pass looks for refused lines by their first field's value: `00…7` is 7."""
    good = [microdata_line(number=100 + i) for i in range(50)]
    padded = "000" + microdata_line(number=7, NU_NOTA_MT="1200.5")
    empty_key = ";" + microdata_line(number=8, NU_NOTA_MT="1200.5").split(";", 1)[1]
    lake.ingest({MICRO: microdata_csv(good + [padded, empty_key])})
    with caplog.at_level(logging.INFO, "lake.process"):
        summary = lake.run(spark, max_rejected_share=0.05)
    assert summary.tables[TABLE].rows_rejected == 2
    assert {row["line"] for row in lake.rejected_rows()} == {padded, empty_key}
    assert "found again" not in caplog.text


def test_quality_gate_fails_the_run_before_publishing(spark, lake: Lake) -> None:
    lake.ingest({MICRO: microdata_csv([microdata_line(number=1)])}, stamp="20261124T000000Z")
    lake.run(spark)  # a published table exists
    lines = [microdata_line(number=i) for i in range(10)] + [BAD_LINES["domain:nu_nota_mt"]()]
    lake.ingest({MICRO: microdata_csv(lines)})

    with pytest.raises(QualityGateError, match=r"rejected 1 of 11 rows \(9\.09% > 1\.00%\)"):
        lake.run(spark)
    assert lake.table().num_rows == 1  # the previous table is untouched
    failed = lake.summaries()[-1]
    assert failed["status"] == "failed"
    assert "quality gate" in failed["error"] and "nothing was published" in failed["error"]
    assert len(lake.rejected_rows()) == 1  # the evidence is kept
    assert not lake.staged()


# --- runs: idempotent, interrupted, incomplete ------------------------------------------------

def test_rerun_on_the_same_input_is_a_noop_and_a_new_ingestion_replaces(spark,
                                                                       lake: Lake) -> None:
    lines = [microdata_line(number=i) for i in range(20)]
    lake.ingest({MICRO: microdata_csv(lines)}, stamp="20261124T000000Z")
    first = lake.run(spark)
    assert first.status == "published"
    again = lake.run(spark)
    assert again.status == "noop"
    assert len(lake.summaries()) == 1
    lake.ingest({MICRO: microdata_csv(lines)}, stamp="20261125T000000Z")  # same data again
    lake.run(spark)
    table = lake.table()
    assert table.num_rows == 20  # replaced, not appended
    assert len(set(table.column("nu_inscricao").to_pylist())) == 20


def test_failed_run_leaves_the_previous_table(spark, lake: Lake, monkeypatch) -> None:
    lake.ingest({MICRO: microdata_csv([microdata_line(number=i) for i in range(5)])},
                stamp="20261124T000000Z")
    lake.run(spark)
    lake.ingest({MICRO: microdata_csv([microdata_line(number=i) for i in range(50)])})

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed while writing")

    monkeypatch.setattr(tables, "write_valid", killed)
    with pytest.raises(KeyboardInterrupt):
        lake.run(spark)
    assert lake.table().num_rows == 5
    assert lake.summaries()[-1]["status"] == "failed"
    assert not lake.staged()
    monkeypatch.undo()
    assert lake.run(spark).tables[TABLE].rows_written == 50
    assert lake.table().num_rows == 50


def test_a_publish_killed_half_way_is_finished_by_the_next_run(spark, lake: Lake,
                                                              monkeypatch) -> None:
    lake.ingest({MICRO: microdata_csv([microdata_line(number=i) for i in range(7)])})

    def die(self, source, target):
        raise KeyboardInterrupt("killed during publish")

    monkeypatch.setattr(LocalStorage, "replace", die)
    with pytest.raises(KeyboardInterrupt):
        lake.run(spark)
    assert lake.summaries()[-1]["status"] == "publishing"
    assert not (lake.processed / TABLE).exists()
    monkeypatch.undo()
    assert lake.run(spark).status == "noop"  # the interrupted run's publish is finished first
    assert lake.table().num_rows == 7
    assert lake.restricted_table().num_rows == 7  # in both zones
    assert not lake.staged()
    assert lake.summaries()[-1]["status"] == "published"


def test_incomplete_ingestion_is_ignored(spark, lake: Lake) -> None:
    lake.ingest({MICRO: microdata_csv([microdata_line(number=1)])}, stamp="20261124T000000Z")
    lake.ingest({MICRO: microdata_csv([microdata_line(number=i) for i in range(9)])},
                stamp="20261125T000000Z", complete=False)
    summary = lake.run(spark)
    assert summary.inputs[DATASET].endswith("ingest=20261124T000000Z")
    assert lake.table().num_rows == 1


# --- layouts and formats --------------------------------------------------------------------

def test_itens_both_releases_and_crlf(spark, lake: Lake) -> None:
    lake.ingest({"ITENS_PROVA_2019.csv": itens_csv("itens-original", rows=45),
                 MICRO: microdata_csv([microdata_line(number=1)], newline="\r\n")},
                stamp="20261124T000000Z")
    summary = lake.run(spark)
    assert summary.tables["itens_prova_2019"].layout == "itens-original"
    assert summary.tables[TABLE].rows_written == 1
    row = lake.table().to_pylist()[0]
    assert row["q025"] == "A" and row["no_municipio_prova"] == "Santarém"  # no stray \r
    # A newer release of the file replaces the table whole, with its own columns.
    lake.ingest({"ITENS_PROVA_2019.csv": itens_csv("itens-lgpd", rows=50)},
                dataset="itens", stamp="20261125T000000Z")
    summary = lake.run(spark)
    assert summary.tables["itens_prova_2019"].layout == "itens-lgpd"
    itens = lake.table("itens_prova_2019")
    assert itens.num_rows == 50 and "nu_param_a" in itens.column_names
    assert str(itens.schema.field("nu_param_a").type) == "double"


def test_unknown_layout_lands_as_strings_in_the_restricted_zone_only(spark, lake: Lake,
                                                                     caplog) -> None:
    """Nobody has said which of its columns are public: analysts get none of them."""
    lake.ingest({"OUTRO.csv": "Código;Município\n1;Santarém\n2;Óbidos\n".encode("latin-1")})
    with caplog.at_level(logging.WARNING, logger="lake.process"):
        summary = lake.run(spark)
    assert "OUTRO.csv has an unknown layout" in caplog.text
    assert summary.tables["outro"].layout == "unknown"
    assert summary.tables["outro"].public_columns == 0
    assert summary.tables["outro"].restricted.startswith("unknown layout: every column is kept "
                                                         "in the restricted zone")
    assert not (lake.processed / "outro").exists()
    table = lake.restricted_table("outro")
    assert table.column_names == ["código", "município"]
    assert table.column("município").to_pylist() == ["Santarém", "Óbidos"]


@pytest.mark.parametrize(("content", "message"), [
    (b"", "is empty"),
    (microdata_csv([]), "has a header but no rows"),
])
def test_empty_and_header_only_files_are_refused_by_name(spark, lake: Lake, content: bytes,
                                                         message: str) -> None:
    lake.ingest({MICRO: content})
    with pytest.raises(ProcessingError, match=rf"{MICRO} {message}"):
        lake.run(spark)
    assert not (lake.processed / TABLE).exists()


def test_cli_reports_errors_in_one_line(lake: Lake, capsys) -> None:
    lake.ingest({MICRO: b""})
    code = job.main(["--raw", str(lake.raw), "--processed", str(lake.processed),
                     "--rejected", str(lake.rejected), "--restricted", str(lake.restricted)])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: ") and "is empty" in err


@pytest.mark.parametrize("split_bytes", [4096, 1 << 27])
def test_lines_are_read_back_exactly_with_the_header_dropped(spark, tmp_path: Path,
                                                            split_bytes: int) -> None:
    """The second pass's lines: every line after the header, as written (Latin-1, CRLF or LF),
    however many splits Spark reads the file in."""
    lines = [f"{i};São João;{'Ç' * (i % 7)};x" for i in range(3000)]
    data = ("NU_INSCRICAO;NO_MUNICIPIO;A;B\r\n"
            + "".join(line + ("\r\n" if i % 2 else "\n") for i, line in enumerate(lines)))
    path = tmp_path / "lines.csv"
    path.write_bytes(data.encode("latin-1"))
    previous = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(split_bytes))
    try:
        frame = transforms.read_lines(spark, str(path))
        assert (frame.rdd.getNumPartitions() > 10) == (split_bytes == 4096)
        assert sorted(row[transforms.LINE] for row in frame.collect()) == sorted(lines)
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", previous)


# --- who sees what: public and restricted tables --------------------------------------------

def test_the_original_release_splits_into_a_public_and_a_restricted_table(spark,
                                                                          lake: Lake) -> None:
    lines = [microdata_line(number=1, NU_IDADE="16"), microdata_line(number=2, NU_IDADE="22"),
             microdata_line(number=3, NU_IDADE="44"), microdata_line(number=4, NU_IDADE="")]
    lake.ingest({MICRO: microdata_csv(lines)})
    summary = lake.run(spark)

    public = lake.table()
    lgpd = LAYOUTS_BY_NAME["microdados-lgpd"]
    assert sorted(public.column_names) == sorted(c.output for c in lgpd.columns)
    assert not {c.lower() for c in RESTRICTED_MICRODATA_COLUMNS} & set(public.column_names)
    bands = dict(zip(public.column("nu_inscricao").to_pylist(),
                     public.column("tp_faixa_etaria").to_pylist(), strict=True))
    assert bands == {190_000_000_001: 1, 190_000_000_002: 7, 190_000_000_003: 14,
                     190_000_000_004: None}
    full = lake.restricted_table()
    assert sorted(full.column_names) == sorted(
        [c.lower() for c in MICRODADOS_ORIGINAL_COLUMNS] + ["tp_faixa_etaria"])
    assert full.num_rows == public.num_rows == 4
    report = summary.tables[TABLE]
    assert (report.public_columns, report.restricted_columns) == (76, 137)
    assert report.restricted == (f"61 restricted columns: every column of the release, and the "
                                 f"public ones it lacks derived, in {lake.restricted / TABLE}")
    # Not a restricted column's name is left in the public files, not even in Spark's footer.
    for path in (lake.processed / TABLE).rglob("*.parquet"):
        metadata = pq.ParquetFile(path).metadata
        spark_schema = json.loads(metadata.metadata[b"org.apache.spark.sql.parquet.row.metadata"])
        names = {f["name"] for f in spark_schema["fields"]} | {
            metadata.schema.column(i).name for i in range(metadata.num_columns)}
        assert not names & {c.lower() for c in RESTRICTED_MICRODATA_COLUMNS}, path
    written = json.loads((lake.processed / "_runs" / f"{summary.run_id}.json").read_text())
    assert written["tables"][TABLE]["restricted"] == report.restricted


def test_the_re_release_has_nothing_restricted_and_says_so(spark, lake: Lake) -> None:
    lake.ingest({MICRO: microdata_csv([microdata_line("microdados-lgpd", number=1)],
                                      "microdados-lgpd")})
    summary = lake.run(spark)
    assert summary.tables[TABLE].restricted == "none: every column of microdados-lgpd is public"
    assert summary.tables[TABLE].restricted_columns == 0
    assert not lake.restricted.exists()
    assert len(lake.table().column_names) == 76


def test_restricted_columns_never_land_without_a_restricted_zone(spark, lake: Lake) -> None:
    lake.ingest({MICRO: microdata_csv([microdata_line(number=1)])})
    with pytest.raises(ProcessingError, match=rf"{MICRO} holds restricted columns, and the run "
                                              r"has no restricted zone to keep them in "
                                              r"\(--restricted\)\.$"):
        pipeline.run(spark, Options(raw=str(lake.raw), processed=str(lake.processed),
                                    rejected=str(lake.rejected)))
    assert not (lake.processed / TABLE).exists()
    assert not list(lake.processed.rglob("*.parquet"))


def test_the_derived_age_band_is_inep_s_for_every_age(spark) -> None:
    ages = spark.range(10, 101).selectExpr("CAST(id AS INT) AS nu_idade")
    rows = ages.selectExpr("nu_idade", f"{DERIVED['TP_FAIXA_ETARIA']} AS band").collect()
    assert len(rows) == 91
    assert all(row.band == age_band(row.nu_idade) for row in rows), rows


def test_zones_given_as_relative_folders_split_the_same(spark, lake: Lake) -> None:
    """`lake demo` passes `.lake/dev/…`: relative folders, resolved from where the job runs
    (Spark's JVM and Python share that folder)."""
    lake.ingest({MICRO: microdata_csv([microdata_line(number=n) for n in range(1, 6)])})
    name = os.path.relpath(lake.root)
    summary = pipeline.run(spark, Options(raw=f"{name}/raw", processed=f"{name}/processed",
                                          restricted=f"{name}/restricted",
                                          rejected=f"{name}/rejected"))
    assert summary.tables[TABLE].rows_written == 5
    assert lake.table().num_rows == 5 and len(lake.table().column_names) == 76
    assert lake.restricted_table().num_rows == 5
    assert not lake.staged()

    def files(zone: Path) -> list[str]:
        return sorted(p.relative_to(zone / TABLE).as_posix()
                      for p in (zone / TABLE).rglob("*.parquet"))

    assert files(lake.processed) == files(lake.restricted)  # the same partitions and names
    assert all(name.startswith("nu_ano=2019/sg_uf_prova=") for name in files(lake.processed))
