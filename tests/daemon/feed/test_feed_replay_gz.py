"""Gzip-compressed recordings (``*.jsonl.gz``, the in-repo sample) replay like plain ones."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

from rugsd.daemon.feed.replay import ReplaySource

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "real" / "recordings"


def test_a_gz_recording_gives_the_events_and_counts_of_its_plain_file(tmp_path):
    src = min(SAMPLE.glob("*.jsonl.gz"))
    plain = tmp_path / "plain" / src.name.removesuffix(".gz")
    plain.parent.mkdir()
    with gzip.open(src, "rb") as fin, plain.open("wb") as fout:
        shutil.copyfileobj(fin, fout)

    a, b = ReplaySource(src), ReplaySource(plain.parent)
    events_gz, events_plain = list(a.iter_events()), list(b.iter_events())

    assert events_gz == events_plain and events_gz
    counts = {k: v for k, v in a.stats.summary().items()}
    assert counts == b.stats.summary()


def test_a_folder_mixes_plain_and_gz_files_in_time_order(tmp_path):
    files = sorted(SAMPLE.glob("*.jsonl.gz"))[:3]
    shutil.copy(files[0], tmp_path / files[0].name)
    with gzip.open(files[1], "rb") as fin, (tmp_path / files[1].name[:-3]).open("wb") as fout:
        shutil.copyfileobj(fin, fout)
    shutil.copy(files[2], tmp_path / files[2].name)

    source = ReplaySource(tmp_path)
    list(source.iter_events())

    assert [Path(p).name.removesuffix(".gz") for p in source.stats.per_file] == [
        f.name.removesuffix(".gz") for f in files]


def test_a_cut_gz_file_keeps_what_was_read_and_never_raises(tmp_path):
    src = max(SAMPLE.glob("*.jsonl.gz"))
    data = src.read_bytes()
    cut = tmp_path / src.name
    cut.write_bytes(data[: len(data) // 2])

    source = ReplaySource(cut)
    events = list(source.iter_events())

    assert source.stats.files == 1 and 0 < len(events)
