"""`das recompute` on small readings CSVs prints the hand-computed hour records (run as a separate process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
REPO = Path(__file__).resolve().parents[2]


def das(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from agent.cli import main; sys.argv = ['das', *sys.argv[1:]]; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO, timeout=60)


def test_gas_hour_json_equals_hand_computed() -> None:
    """gas_readings.csv: 10:00-10:29 SO2 100, 10:30-10:58 200, 10:59 500 flagged C (calibration); O2 9 %;
    flow 36000 m3/h. 59 valid minutes: Avg = (30·100 + 29·200)/59 = 8800/59; Zs × (21−6)/(21−9) = 1.25;
    Cou = Avg × 36000 m3 × 1e-6 kg; flow total 60 × 600 m3."""
    run = das("recompute", "-c", str(DATA / "gas_outlet.toml"), "-r", str(DATA / "gas_readings.csv"), "-k", "hour")
    assert run.returncode == 0, run.stderr
    (line,) = run.stdout.splitlines()
    hour = json.loads(line)
    assert hour["kind"] == "hour" and hour["data_time"] == "2024-05-01 10:00:00"
    so2 = hour["factors"]["a21026"]
    avg = 8800 / 59
    assert so2 == pytest.approx(
        {
            "Min": 100.0,
            "Avg": avg,
            "Max": 200.0,
            "ZsMin": 125.0,
            "ZsAvg": avg * 1.25,
            "ZsMax": 250.0,
            "Cou": avg * 36000 * 1e-6,
            "Flag": "N",
        }
    )
    assert hour["factors"]["a00000"] == pytest.approx(
        {"Min": 36000.0, "Avg": 36000.0, "Max": 36000.0, "Cou": 36000.0, "Flag": "N"}
    )
    assert hour["counts"]["a21026"] == 59


def test_gas_hour_cp_text_and_alarm() -> None:
    run = das(
        "recompute",
        "-c",
        str(DATA / "gas_outlet.toml"),
        "-r",
        str(DATA / "gas_readings.csv"),
        "-k",
        "hour",
        "-f",
        "cp",
        "--alarms",
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == (
        "hour\tDataTime=20240501100000;"
        "a21026-Min=100.00,a21026-Avg=149.15,a21026-Max=200.00,"
        "a21026-ZsMin=125.00,a21026-ZsAvg=186.44,a21026-ZsMax=250.00,a21026-Cou=5.37,a21026-Flag=N;"
        "a19001-Min=9.0,a19001-Avg=9.0,a19001-Max=9.0,a19001-Flag=N;"
        "a00000-Min=36000.0,a00000-Avg=36000.0,a00000-Max=36000.0,a00000-Cou=36000.0,a00000-Flag=N"
    )
    alarm = json.loads(lines[1])["alarm"]
    assert alarm["kind"] == "over_limit" and alarm["factor"] == "a21026" and alarm["start"] == "2024-05-01 10:00:00"


def test_water_hours_batch_cod_equal_hand_computed() -> None:
    """water_readings.csv: hour 8 flow 10 L/s → 36 m3, hour 9 20 L/s → 72 m3; COD 42.0 completed 08:35, polled
    every minute with its analyzer time (one measurement). Hour 8: 42.0 measured, Cou = 42·36·1e-3 = 1.512 kg;
    hour 9: carried (08:35 + 120 min > 09:00), Cou = 42·72·1e-3 = 3.024 kg; pH arithmetic 7.0 and 7.6."""
    run = das("recompute", "-c", str(DATA / "water_outlet.toml"), "-r", str(DATA / "water_readings.csv"), "-k", "hour")
    assert run.returncode == 0, run.stderr
    h8, h9 = (json.loads(x) for x in run.stdout.splitlines())
    assert h8["factors"]["w01018"] == pytest.approx({"Min": 42.0, "Avg": 42.0, "Max": 42.0, "Cou": 1.512, "Flag": "N"})
    assert h9["factors"]["w01018"] == pytest.approx({"Min": 42.0, "Avg": 42.0, "Max": 42.0, "Cou": 3.024, "Flag": "N"})
    assert h8["counts"]["w01018"] == 1 and h9["counts"]["w01018"] == 0  # measured vs carried
    assert h8["factors"]["w00000"] == pytest.approx({"Min": 10.0, "Avg": 10.0, "Max": 10.0, "Cou": 36.0, "Flag": "N"})
    assert h9["factors"]["w01001"]["Avg"] == pytest.approx(7.6)


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('outlet = "x"\nkind = "gas"\nmin_interval = 7\n', encoding="utf-8")
    run = das("recompute", "-c", str(bad), "-r", str(DATA / "gas_readings.csv"))
    assert run.returncode == 2
    assert "min_interval" in run.stderr and "invalid parameters" in run.stderr


def test_bad_csv_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "r.csv"
    bad.write_text("time,device,factor,value,flag\n2024-05-01 10:00:00,d,a21026,abc,N\n", encoding="utf-8")
    run = das("recompute", "-c", str(DATA / "gas_outlet.toml"), "-r", str(bad))
    assert run.returncode == 2 and "r.csv:2" in run.stderr
    # file, line and column, in Chinese and English; not Python's "could not convert string to float"
    assert "列 4 value / column 4 (value): 不是数字 / not a number: 'abc'" in run.stderr
    assert "could not convert" not in run.stderr


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2024-05-01 10:00:00,d,a21026,1e,N", "r.csv:3: 列 4 value / column 4 (value): 不是数字 / not a number: '1e'"),
        (
            "2024-05-01 25:00:00,d,a21026,1.0,N",
            "r.csv:3: 列 1 time / column 1 (time): 时间格式错误 / not a time (YYYYMMDDhhmmss or ISO): "
            "'2024-05-01 25:00:00'",
        ),
        ("2024-05-01 10:00:00,,a21026,1.0,N", "r.csv:3: 列 2 device / column 2 (device): 为空 / empty"),
        ("2024-05-01 10:00:00,d", "r.csv:3: 列 3 factor / column 3 (factor): 为空 / empty"),
        (
            "2024-05-01 10:00:00,d,a21026,1.0,N,x,2024-13-01",
            "r.csv:3: 列 7 device_time / column 7 (device_time): 时间格式错误 / not a time (YYYYMMDDhhmmss or ISO): "
            "'2024-13-01'",
        ),
    ],
)
def test_csv_errors_name_file_line_and_column(tmp_path: Path, row: str, message: str) -> None:
    from agent.stats import ReadingsFileError, read_readings_csv

    bad = tmp_path / "r.csv"
    good = "2024-05-01 10:00:00,d,a21026,1.0,N,mg/m3,"
    bad.write_text(f"time,device,factor,value,flag,unit,device_time\n{good}\n{row}\n", encoding="utf-8")
    with pytest.raises(ReadingsFileError) as err:
        list(read_readings_csv(bad))
    assert str(err.value) == f"{bad.parent}/{message}"


def test_csv_without_the_needed_columns(tmp_path: Path) -> None:
    from agent.stats import ReadingsFileError, read_readings_csv

    bad = tmp_path / "r.csv"
    bad.write_text("when,device,factor,value\n", encoding="utf-8")
    with pytest.raises(ReadingsFileError, match="表头缺少 / header lacks the column"):
        list(read_readings_csv(bad))


def test_recompute_from_the_store_equals_the_csv(tmp_path: Path) -> None:
    from agent.stats import read_readings_csv
    from buffer import Store

    db = tmp_path / "das.db"
    with Store(db) as store:
        store.add_readings(read_readings_csv(DATA / "gas_readings.csv"))
    args = ("-c", str(DATA / "gas_outlet.toml"), "-k", "hour", "--from", "20240501100000", "--to", "20240501110000")
    from_store = das("recompute", *args, "--store", str(db), "-d", "cems1", "-d", "flow1")
    from_csv = das("recompute", *args, "-r", str(DATA / "gas_readings.csv"))
    assert from_store.returncode == 0, from_store.stderr
    assert from_store.stdout == from_csv.stdout
    assert json.loads(from_store.stdout)["factors"]["a21026"]["Avg"] == pytest.approx(8800 / 59)
