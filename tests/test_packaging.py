"""A plain install works: the wheel holds every SQL file and the Dagster defaults, and the package
installed from it into a fresh venv outside the checkout runs ``calllogs demo``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


# What a source distribution of the project holds; the build runs on a copy, so it neither writes
# build/ into the checkout nor reuses a stale one.
SOURCES = ("pyproject.toml", "README.md", "pipeline", "simulator", "dagster_project", "sql")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            skip = shutil.ignore_patterns("__pycache__")
            shutil.copytree(ROOT / name, source / name, ignore=skip)
        elif (ROOT / name).is_file():
            shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(source)],
        check=True, capture_output=True, cwd=out,
    )  # fmt: skip
    (built,) = out.glob("calllogs-*.whl")
    return built


def test_the_wheel_holds_every_sql_file_and_the_dagster_defaults(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    sql = {"pipeline/" + p.relative_to(ROOT).as_posix() for p in ROOT.glob("sql/*/*.sql")}
    assert sql and sql <= names, sorted(sql - names)
    assert "dagster_project/dagster.yaml" in names
    assert "pipeline/py.typed" in names
    assert "pipeline/report/page.html.j2" in names  # `calllogs report`'s page
    assert "simulator/server.py" in names  # `calllogs demo` and `calllogs simulate` need it
    assert not any(name.startswith(("tests/", "benchmarks/")) for name in names)


def test_the_installed_wheel_runs_the_demo_outside_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    fresh = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(fresh)
    python = fresh / "bin" / "python"
    # The dependencies come from this venv's site-packages (no download); its editable finder of
    # the checkout is not activated, since only a site dir's own .pth files run.
    fresh_site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    Path(fresh_site, "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALL_LOGS_", "DAGSTER_"))}
    env.pop("PYTHONPATH", None)
    where = subprocess.run(
        [python, "-c", "import pipeline, dagster_project; print(pipeline.__file__)"],
        check=True, capture_output=True, text=True, cwd=tmp_path, env=env,
    ).stdout  # fmt: skip
    assert where.startswith(str(fresh)), where  # the installed copy, not the checkout
    demo = subprocess.run(
        [fresh / "bin" / "calllogs", "demo", "--days", "2"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "Calls per assistant" in demo.stdout
    assert (tmp_path / "demo-data" / "warehouse.duckdb").is_file()
    assert (tmp_path / "demo-data" / "dagster_home" / "dagster.yaml").is_file()
