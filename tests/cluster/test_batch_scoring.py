"""Single-process streaming scoring (pipeline.scoring.files) against the app's whole-table scoring.

A sample of the UCI fixture with an empty title, a title of symbols only and a latin-1
byte is scored in chunks of 64 rows (so chunk boundaries, and file boundaries in a
folder, are crossed), from a CSV, a .csv.gz, a folder of CSVs and Parquet, into each
output format; every cell must equal ``Predictor.score_table`` on the whole table,
float32 probabilities exactly.
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scoring_support import (
    EMPTY_ROW,
    LATIN1_ROW,
    NO_WORDS_ROW,
    ROOT,
    SAMPLE_ROWS,
    UCI_SMALL,
    cli,
    sample_csv_bytes,
    whole_table,
    write_csv_parts,
)

from pipeline.core.errors import DatasetError, PredictionError

pytestmark = pytest.mark.training
CHUNK = 64
NEWS_CORPORA = UCI_SMALL.with_name("newsCorpora_small.csv")


@pytest.fixture(scope="module")
def predictor(tiny_run, cluster_runs_dir):
    from pipeline.runs.registry import RunRegistry
    from pipeline.scoring.predictor import Predictor

    return Predictor.from_run(RunRegistry(cluster_runs_dir), tiny_run)


@pytest.fixture(scope="module")
def sample() -> bytes:
    return sample_csv_bytes()


@pytest.fixture(scope="module")
def expected(predictor, sample) -> pd.DataFrame:
    """The app's scoring of the whole sample, the latin-1 row noted as replaced."""
    from pipeline.scoring.summary import NOTE_NOT_UTF8

    scored = predictor.score_table(whole_table(sample), "TITLE")
    scored.loc[LATIN1_ROW, "note"] = NOTE_NOT_UTF8
    return scored


def _read_output(path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pandas()
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _as_written(frame: pd.DataFrame, suffix: str) -> pd.DataFrame:
    """``frame`` as a whole-table write in that format reads back."""
    if suffix == ".parquet":
        return frame
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return pd.read_csv(io.StringIO(buffer.getvalue()), dtype=str, keep_default_na=False)


def _no_known_word(frame: pd.DataFrame) -> int:
    from pipeline.scoring.summary import NOTE_NO_KNOWN_WORD

    return int((frame["note"] == NOTE_NO_KNOWN_WORD).sum())


@pytest.mark.parametrize(
    ("source", "output"),
    [
        ("sample.csv", "scored.parquet"),
        ("sample.csv.gz", "scored.csv"),
        ("folder", "scored.csv.gz"),
    ],
)
def test_csv_inputs_stream_to_the_app_scores(predictor, sample, expected, tmp_path, source, output):
    from pipeline.scoring.files import score_file

    if source == "sample.csv":
        (tmp_path / source).write_bytes(sample)
    elif source == "sample.csv.gz":
        (tmp_path / source).write_bytes(gzip.compress(sample))
    else:
        parts = write_csv_parts(sample, tmp_path / source, parts=3)
        assert len(parts) == 3  # 100 rows each: chunks of 64 straddle the files
    progress = []

    summary = score_file(
        predictor,
        tmp_path / source,
        tmp_path / output,
        chunk_rows=CHUNK,
        on_progress=progress.append,
    )

    written = _read_output(tmp_path / output)
    pd.testing.assert_frame_equal(written, _as_written(expected, (tmp_path / output).suffix))
    assert summary.rows == SAMPLE_ROWS
    assert summary.scored == SAMPLE_ROWS - 2
    assert summary.not_scored == {"empty text": 1, "no words": 1}
    assert summary.noted == {
        "not UTF-8 (replaced)": 1,
        **({"no known word": n} if (n := _no_known_word(expected)) else {}),
    }
    assert [p.rows for p in progress] == [64, 128, 192, 256, 300]
    assert written["TITLE"][LATIN1_ROW].startswith("Caf\ufffd prices")
    assert list(tmp_path.glob(".*partial")) == []


def test_parquet_input_keeps_its_types_and_scores_a_null_text(predictor, sample, tmp_path):
    from pipeline.scoring.files import score_file
    from pipeline.scoring.summary import NOTE_EMPTY

    frame = whole_table(sample)
    frame["ID"] = frame["ID"].astype("int64")
    frame.loc[EMPTY_ROW, "TITLE"] = None
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "in.parquet")

    summary = score_file(
        predictor, tmp_path / "in.parquet", tmp_path / "out.parquet", chunk_rows=CHUNK
    )

    written = pq.read_table(tmp_path / "out.parquet")
    assert written.schema.field("ID").type == pa.int64()
    assert written.schema.field("probability: business").type == pa.float32()
    expected = predictor.score_table(frame, "TITLE")
    pd.testing.assert_frame_equal(written.to_pandas(), expected)
    assert written.column("note")[EMPTY_ROW].as_py() == NOTE_EMPTY
    # Parquet holds text, not bytes: the latin-1 row arrives already replaced, un-noted.
    assert summary.not_scored == {"empty text": 1, "no words": 1}
    assert "not UTF-8 (replaced)" not in summary.noted


def test_probabilities_are_the_models_float32_values(predictor, sample, tmp_path):
    from pipeline.scoring.files import score_file

    (tmp_path / "in.csv").write_bytes(sample)
    score_file(predictor, tmp_path / "in.csv", tmp_path / "out.parquet", chunk_rows=CHUNK)

    written = pq.read_table(tmp_path / "out.parquet").to_pandas()
    texts = whole_table(sample)["TITLE"].tolist()
    probabilities = predictor.probabilities(texts)
    scored = [i for i in range(SAMPLE_ROWS) if i not in (EMPTY_ROW, NO_WORDS_ROW)]
    for k, code in enumerate(predictor.classes):
        column = written[f"probability: {predictor.label_names[code]}"].to_numpy()
        assert column.dtype == np.float32
        np.testing.assert_array_equal(column[scored], probabilities[scored, k])
        assert np.isnan(column[[EMPTY_ROW, NO_WORDS_ROW]]).all()


def test_a_failed_job_leaves_the_old_output_alone(predictor, sample, tmp_path):
    from pipeline.scoring.files import score_file

    # 9,300 good rows (about 1.3 MB: past the first read block) before a broken line, so
    # the job fails after it has written chunks.
    body = sample.split(b"\n", 1)[1]
    broken = sample + body * 30 + b"1,a line,with,too,many,fields,for,the,header\n"
    (tmp_path / "in.csv").write_bytes(broken)
    out = tmp_path / "out.csv"
    out.write_text("old\n")
    folders = []

    def progress(_) -> None:
        folders.append(sorted(p.name for p in tmp_path.iterdir()))

    with pytest.raises(DatasetError, match=r"in\.csv.*Expected 7 columns, got 9"):
        score_file(predictor, tmp_path / "in.csv", out, chunk_rows=1024, on_progress=progress)

    assert len(folders) >= 2  # chunks were written into the temporary file...
    assert [name for name in folders[0] if name.endswith(".partial")] != []
    assert out.read_text() == "old\n"  # ...which is gone, the old output untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


def test_bad_names_are_refused_before_scoring(predictor, sample, tmp_path):
    from pipeline.scoring.files import score_file
    from pipeline.scoring.source import open_source

    (tmp_path / "in.csv").write_bytes(sample)
    with pytest.raises(PredictionError, match=r"must end in \.parquet, \.csv, \.csv\.gz"):
        score_file(predictor, tmp_path / "in.csv", tmp_path / "out.xlsx")
    with pytest.raises(PredictionError, match=r"Column 'headline' is not in in\.csv"):
        open_source(tmp_path / "in.csv", "headline")
    (tmp_path / "other.csv").write_bytes(b"a,b\n1,2\n")
    with pytest.raises(DatasetError, match=r"other\.csv has other columns than in\.csv"):
        open_source(tmp_path)
    with pytest.raises(DatasetError, match="No file or folder"):
        open_source(tmp_path / "missing.csv")
    assert not (tmp_path / "out.xlsx").exists()


def test_cli_scores_a_file_and_prints_the_summary(tiny_run, cluster_runs_dir, sample, tmp_path):
    (tmp_path / "in.csv").write_bytes(sample)
    out = tmp_path / "out.parquet"
    args = ["--run", tiny_run, "--runs-dir", str(cluster_runs_dir)]

    argv = ["predict", *args, "--file", str(tmp_path / "in.csv"), "--output", str(out), "--json"]
    # the real CLI, then a look at what it imported: the local engine never loads Ray
    probe = (
        "import sys; from pipeline.cli.main import main; code = main(sys.argv[1:]); "
        "print('ray' in sys.modules, file=sys.stderr); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *argv], cwd=ROOT, capture_output=True, text=True, timeout=300
    )

    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "False"  # Ray: an optional extra
    summary = json.loads(done.stdout)
    assert (summary["rows"], summary["scored"], summary["engine"]) == (300, 298, "local")
    assert summary["not_scored"] == {"empty text": 1, "no words": 1}
    assert pq.read_table(out).num_rows == SAMPLE_ROWS


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--output", "out.xlsx"], "error: Cannot write out.xlsx: the output must end in"),
        (["--output", "out.csv", "--text-col", "body"], "error: Column 'body' is not in in.csv"),
    ],
)
def test_cli_errors_are_one_line(tiny_run, cluster_runs_dir, sample, tmp_path, extra, message):
    (tmp_path / "in.csv").write_bytes(sample)
    extra = [str(tmp_path / e) if e.startswith("out.") else e for e in extra]
    args = ["--run", tiny_run, "--runs-dir", str(cluster_runs_dir)]

    done = cli("predict", *args, "--file", str(tmp_path / "in.csv"), *extra)

    assert done.returncode == 2
    assert done.stderr.startswith(message), done.stderr
    assert done.stderr.count("\n") == 1


@pytest.mark.ray
def test_ray_engine_reads_a_headerless_tab_separated_cp1252_file(
    predictor, tiny_run, cluster_runs_dir, tmp_path
):
    """``--engine ray`` reads with the format the local engine detects: the newsCorpora
    fixture (no header, tabs, literal double quotes) saved in cp1252 scores as the app
    scores the table ``read_table`` reads from it."""
    from pipeline.data import read_table

    path = tmp_path / "newsCorpora.csv"
    path.write_bytes(NEWS_CORPORA.read_text(encoding="utf-8").encode("cp1252"))
    raw = read_table(path)
    assert (raw.layout, raw.encoding) == ("newsCorpora", "cp1252")
    expected = predictor.score_table(raw.frame, "TITLE")
    output = tmp_path / "scored.parquet"
    args = ["--run", tiny_run, "--runs-dir", str(cluster_runs_dir), "--file", str(path)]

    done = cli("predict", *args, "--output", str(output), "--engine", "ray", "--json")

    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert (summary["engine"], summary["rows"]) == ("ray", len(raw.frame))
    # Found: one actor per CPU, each importing TensorFlow, though the file is one chunk.
    assert summary["workers"] == 1
    assert "not UTF-8 (replaced)" not in summary["noted"]
    written = pq.read_table(output).to_pandas()
    # Ray cuts the model's batches elsewhere: a probability may differ in its last bits.
    pd.testing.assert_frame_equal(written, expected, check_exact=False, rtol=1e-5, atol=1e-7)
    texts = [*raw.frame.columns, "predicted", "predicted_code", "note"]
    pd.testing.assert_frame_equal(written[texts], expected[texts], check_exact=True)
    assert written["TITLE"].str.contains("[£—“”]").any()  # decoded from cp1252
