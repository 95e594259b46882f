"""``rugsd replay`` on the command line: counts and exit codes, determinism across runs,
and ``rugsd report`` on the journal it leaves."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from daemon_proc import rugsd

SHA = re.compile(r"decision log sha256 ([0-9a-f]{64})")


def _recordings(real_data_dir: Path, tmp_path: Path, n: int = 3) -> Path:
    folder = tmp_path / "recs"
    folder.mkdir()
    for path in sorted((real_data_dir / "recordings").glob("*.jsonl"))[:n]:
        shutil.copy(path, folder / path.name)
    return folder


def test_runtime_replay_cli_prints_counts_and_is_deterministic(
    real_data_dir: Path, tmp_path: Path
) -> None:
    folder = _recordings(real_data_dir, tmp_path)
    lines = sum(1 for p in folder.glob("*.jsonl") for _ in p.open())

    first = rugsd("replay", str(folder), "--data-dir", str(tmp_path / "a"))
    second = rugsd("replay", str(folder), "--data-dir", str(tmp_path / "b"))

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert f"replayed 3 files, {lines} lines:" in first.stdout
    assert re.search(r"\d+ events, \d+ malformed and \d+ skipped lines", first.stdout)
    assert re.search(r"\d+ decisions, \d+ orders, \d+ fills", first.stdout)
    assert re.search(r"games: \d+ complete, \d+ incomplete, \d+ skipped", first.stdout)
    assert re.search(r"intents: \d+ non-wait, refused \d+ .*exits: \d+ sold, \d+ rugged",
                     first.stdout)
    assert first.stderr == ""  # logs below warning stay quiet; stdout is the summary
    sha1, sha2 = SHA.search(first.stdout), SHA.search(second.stdout)
    assert sha1 and sha2 and sha1.group(1) == sha2.group(1)
    report = rugsd("report", "--data-dir", str(tmp_path / "a"))
    assert report.returncode == 0, report.stderr
    assert report.stdout.strip()


def test_runtime_replay_cli_refuses_a_missing_path(tmp_path: Path) -> None:
    done = rugsd("replay", str(tmp_path / "nowhere"), "--data-dir", str(tmp_path / "d"))

    assert done.returncode != 0
    assert "no such file or folder" in done.stderr
    assert done.stdout == ""


def test_runtime_replay_cli_refuses_a_folder_of_garbage(tmp_path: Path) -> None:
    folder = tmp_path / "garbage"
    folder.mkdir()
    (folder / "a.jsonl").write_text("not json\n{\"half\": \n\x00\x01\x02\n")
    (folder / "b.jsonl").write_bytes(b"\xff\xfe" + bytes(range(256)) * 4)
    (folder / "c.jsonl").write_text('{"type": "tick", "price": "NaN?"}\n[1, 2, 3]\n')

    done = rugsd("replay", str(folder), "--data-dir", str(tmp_path / "d"))

    assert done.returncode != 0
    assert "rugsd replay:" in done.stderr
    assert "Traceback" not in done.stderr


def test_runtime_replay_cli_refuses_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()

    done = rugsd("replay", str(tmp_path / "empty"), "--data-dir", str(tmp_path / "d"))

    assert done.returncode != 0
    assert "Traceback" not in done.stderr


def _recording_with_bad_payloads(folder: Path) -> Path:
    """One game in the recorder's format whose last payloads the parser rejects (and logs)."""
    folder.mkdir()
    gid, t0 = "20251030-00000000000000aa", 1_761_000_000_000
    payloads = [{"gameId": gid, "active": False, "rugged": False, "cooldownTimer": 9000,
                 "allowPreRoundBuys": True}]
    payloads += [{"gameId": gid, "active": True, "rugged": False, "cooldownTimer": 0,
                  "price": 1.0 + 0.01 * t, "tickCount": t} for t in range(5)]
    payloads += [{"gameId": gid, "active": True, "rugged": False, "cooldownTimer": 0,
                  "price": -5, "tickCount": 6}]
    lines = [json.dumps({"recv_ts_ms": t0 + 250 * i, "event": "gameStateUpdate",
                         "args": [payload]}) for i, payload in enumerate(payloads)]
    (folder / f"{gid}.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def test_runtime_replay_json_prints_one_json_document_and_logs_to_stderr(
    tmp_path: Path,
) -> None:
    # issue 10 #11: log lines were mixed into stdout (structlog's default is stdout)
    folder = _recording_with_bad_payloads(tmp_path / "recs")

    done = rugsd("replay", str(folder), "--json", "--data-dir", str(tmp_path / "j"))

    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)  # the whole of stdout, nothing else
    assert set(document) == {"summary", "report"}
    assert document["summary"]["files"] == 1
    assert "protocol.rejected" in done.stderr  # the log line is there, on stderr
def test_runtime_replay_cli_json_is_clean_and_refuses_an_unusable_bundle(tmp_path: Path) -> None:
    import json

    sample = Path(__file__).resolve().parents[2] / "data" / "real" / "recordings"
    models = tmp_path / "models"
    (models / "old").mkdir(parents=True)
    (models / "old" / "manifest.json").write_text("{}")
    (models / "current").symlink_to("old")

    ok = rugsd("replay", str(sample), "--strategy", "presale_target", "--json",
               "--data-dir", str(tmp_path / "a"))
    bad = rugsd("replay", str(sample), "--strategy", "onnx", "--data-dir", str(tmp_path / "b"),
                env={"RUGSD_STRATEGY__MODELS_DIR": str(models)})

    assert ok.returncode == 0, ok.stderr
    summary = json.loads(ok.stdout)["summary"]  # stdout is one JSON document, no log lines
    assert summary["game_counts"]["played"] == summary["games"] > 0
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    assert not (tmp_path / "b").exists()  # refused before anything was written
