"""How many actors a Ray scoring job starts: one per CPU of the cluster, but never more
than its input has chunks of rows.

Found: every job started one actor per CPU, each a process that imports TensorFlow and
loads the model (about 700 MB): a 300-row file on a 64-CPU cluster started 64 of them
to score one chunk. No Ray here: the count comes from the input's files alone."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from pipeline.scoring.ray_scoring import scoring_actors
from pipeline.scoring.source import open_source, rows_up_to

CHUNK = 8192  # the default chunk


def _csv(path: Path, rows: int, text: str = "Stocks rise as oil falls") -> Path:
    frame = pd.DataFrame({"ID": range(rows), "TITLE": [f"{text} {i}" for i in range(rows)]})
    frame.to_csv(path, index=False)
    return path


def test_a_small_file_starts_one_actor_on_a_big_cluster(tmp_path):
    source = open_source(_csv(tmp_path / "small.csv", 300))
    assert scoring_actors(source, CHUNK, cluster_cpus=64) == 1


@pytest.mark.parametrize(("rows", "cpus", "actors"), [(20_000, 64, 3), (20_000, 2, 2)])
def test_actors_are_the_chunks_or_the_cpus_whichever_is_fewer(tmp_path, rows, cpus, actors):
    source = open_source(_csv(tmp_path / "in.csv", rows))
    assert scoring_actors(source, CHUNK, cluster_cpus=cpus) == actors


def test_rows_are_counted_over_a_folder_of_compressed_csv_files(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    for part in range(3):
        plain = _csv(tmp_path / f"{part}.csv", 5_000)
        (folder / f"part-{part}.csv.gz").write_bytes(gzip.compress(plain.read_bytes()))
    source = open_source(folder)
    bound = rows_up_to(source, 10**9)
    assert 15_000 <= bound <= 15_000 + 2 * 3  # a header and a last line end per file
    assert scoring_actors(source, CHUNK, cluster_cpus=64) == 2


def test_parquet_rows_come_from_the_files_metadata(tmp_path):
    path = tmp_path / "in.parquet"
    pd.DataFrame({"TITLE": [f"headline {i}" for i in range(9_000)]}).to_parquet(path)
    source = open_source(path)
    assert rows_up_to(source, 10**9) == 9_000
    assert scoring_actors(source, CHUNK, cluster_cpus=64) == 2


def test_a_cell_holding_a_line_end_never_makes_the_count_too_small(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_text('ID,TITLE\n1,"two\nlines"\n2,one line\n', encoding="utf-8")
    assert rows_up_to(open_source(path), 10**9) >= 2


def test_counting_stops_at_the_limit(tmp_path):
    source = open_source(_csv(tmp_path / "in.csv", 20_000))
    assert rows_up_to(source, 100) == 100


def test_an_empty_input_still_gets_one_actor(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("ID,TITLE\n", encoding="utf-8")
    assert scoring_actors(open_source(path), CHUNK, cluster_cpus=8) == 1
