"""deploy/: every file passes Dagster's own validation, without Postgres, Kubernetes or a broker.

Instance files go through ``InstanceRef.from_dir`` (what ``DagsterInstance.get()`` runs: the
instance schema, including Postgres storage, and the run-queue / pool rules); then every
configurable class they name validates its own section with its ``config_type`` (what
rehydrating it does first). Sections of libraries that are not installed (dagster-postgres,
dagster-k8s, dagster-celery: the ``deploy`` extra) are skipped with the reason; the instance
schema has still checked their shape. The workspace is loaded by Dagster against a real code
server started with the documented command; the documented commands are checked against the CLIs.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from dagster._config import process_config, resolve_to_config_type
from dagster._core.instance import DagsterInstance
from dagster._core.instance.ref import InstanceRef
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.workspace.config_schema import ensure_workspace_config
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget
from dagster._grpc.client import DagsterGrpcClient
from dagster._serdes import ConfigurableClassData

from dagster_project.jobs import SYNC_JOB_NAME

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
INSTANCES = ["dagster.yaml", "dagster-k8s.yaml", "dagster-celery.yaml"]
SECTIONS = [
    "storage_data",
    "run_coordinator_data",
    "run_launcher_data",
    "scheduler_data",
    "compute_logs_data",
    "local_artifact_storage_data",
]
# Only the variables the files reference; dummy values, nothing connects.
ENV = {
    "DAGSTER_PG_HOST": "postgres.invalid",
    "DAGSTER_PG_USERNAME": "dagster",
    "DAGSTER_PG_PASSWORD": "not-a-real-password",
    "DAGSTER_PG_DB": "dagster",
    "DAGSTER_K8S_NAMESPACE": "calllogs",
    "DAGSTER_CELERY_BROKER_URL": "pyamqp://guest@broker.invalid//",
    "DAGSTER_CELERY_BACKEND_URL": "rpc://",
}


@pytest.fixture(autouse=True)
def deploy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


def load(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / name).read_text())
    assert isinstance(loaded, dict)
    return loaded


def instance_ref(path: Path, home: Path) -> InstanceRef:
    """Dagster's own loading of a ``dagster.yaml`` (raises DagsterInvalidConfigError)."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, home / "dagster.yaml")
    return InstanceRef.from_dir(str(home))


def configurable_class(data: ConfigurableClassData, why: str) -> Any:
    try:
        module = importlib.import_module(data.module_name)
    except ModuleNotFoundError as error:
        pytest.skip(
            f"{error.name} is not installed (pip install -e '.[deploy]'); {why} - the "
            "instance schema has validated the section's shape"
        )
    return getattr(module, data.class_name)


# --- instance files --------------------------------------------------------------------------


@pytest.mark.parametrize("name", INSTANCES)
def test_instance_file_passes_dagsters_instance_validation(name: str, tmp_path: Path) -> None:
    ref = instance_ref(DEPLOY / name, tmp_path)
    assert ref.storage_data is not None
    assert ref.storage_data.module_name == "dagster_postgres"  # Postgres, not SQLite
    assert ref.run_coordinator_data is not None
    assert ref.run_coordinator_data.class_name == "QueuedRunCoordinator"
    assert ref.settings["telemetry"] == {"enabled": False}


@pytest.mark.parametrize("section", SECTIONS)
@pytest.mark.parametrize("name", INSTANCES)
def test_each_configured_class_accepts_its_section(name: str, section: str, tmp_path: Path) -> None:
    data = getattr(instance_ref(DEPLOY / name, tmp_path), section)
    assert isinstance(data, ConfigurableClassData)
    klass = configurable_class(data, f"{name}: {section}")
    result = process_config(resolve_to_config_type(klass.config_type()), data.config_dict)
    assert result.success, [error.message for error in result.errors or []]


def test_the_project_instance_file_still_loads(tmp_path: Path) -> None:
    ref = instance_ref(ROOT / "dagster_project" / "dagster.yaml", tmp_path)
    concurrency: Any = ref.settings["concurrency"]
    assert concurrency["pools"]["default_limit"] == 1


def test_the_production_instance_queues_runs_under_its_limits(tmp_path: Path) -> None:
    """deploy/dagster.yaml as a live instance (storage swapped for SQLite: no Postgres here)."""
    config = load("dagster.yaml")
    config["storage"] = {"sqlite": {"base_dir": str(tmp_path / "storage")}}
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        concurrency = instance.get_concurrency_config()
        queue = concurrency.run_queue_config
        assert queue is not None
        assert queue.max_concurrent_runs == 10
        limits = {
            (limit["key"], limit.get("value")): limit["limit"]
            for limit in queue.tag_concurrency_limits
        }
        assert limits == {
            ("dagster/backfill", None): 6,
            ("dagster/schedule_name", "incremental_sync"): 1,
        }
        # pools default to one step at a time: `warehouse` (DuckDB, one writer) can never go above
        assert concurrency.pool_config.default_pool_limit == 1


SHARED = ("storage", "run_coordinator", "concurrency", "run_retries", "retention", "telemetry")


@pytest.mark.parametrize("name", ["dagster-k8s.yaml", "dagster-celery.yaml"])
def test_the_variants_differ_from_the_base_instance_only_in_how_runs_start(name: str) -> None:
    base, variant = load("dagster.yaml"), load(name)
    for section in SHARED:
        assert variant[section] == base[section], section
    assert variant["run_launcher"] != base["run_launcher"]


@pytest.mark.parametrize("name", INSTANCES)
def test_no_secret_is_written_in_the_files(name: str) -> None:
    text = (DEPLOY / name).read_text()
    config = load(name)
    assert config["storage"]["postgres"]["postgres_db"]["password"] == {
        "env": "DAGSTER_PG_PASSWORD"
    }
    assert not re.search(r"(amqp|redis|postgres(ql)?)://[^\s{}]*:[^\s{}]*@", text)
    assert "AWS_SECRET_ACCESS_KEY:" not in text


# --- executor run configs --------------------------------------------------------------------


def executor_config(name: str) -> Mapping[str, Any]:
    config = load(name)["execution"]["config"]
    assert isinstance(config, dict)
    return config


def test_k8s_executor_run_config_matches_the_executor_schema() -> None:
    dagster_k8s = pytest.importorskip(
        "dagster_k8s", reason="dagster-k8s is not installed (pip install -e '.[deploy]')"
    )
    config = executor_config("k8s-executor.yaml")
    schema = dagster_k8s.k8s_job_executor.config_schema.config_type
    result = process_config(schema, config)
    assert result.success, [error.message for error in result.errors or []]
    # the raw Kubernetes parts name real fields of the Kubernetes models
    from dagster_k8s.job import UserDefinedDagsterK8sConfig

    for step_config in [config["step_k8s_config"], *config["per_step_k8s_config"].values()]:
        UserDefinedDagsterK8sConfig.from_dict(step_config)
    assert set(config["per_step_k8s_config"]) == {"warehouse_tables"}


def test_k8s_run_launcher_pod_settings_name_real_kubernetes_fields() -> None:
    pytest.importorskip("dagster_k8s", reason="dagster-k8s is not installed")
    import kubernetes.client as k8s
    from dagster_k8s.models import k8s_snake_case_dict

    launcher = load("dagster-k8s.yaml")["run_launcher"]["config"]
    k8s_snake_case_dict(k8s.V1PodSpec, launcher["run_k8s_config"]["pod_spec_config"])
    k8s_snake_case_dict(k8s.V1Container, launcher["run_k8s_config"]["container_config"])
    for volume in launcher["volumes"]:
        k8s_snake_case_dict(k8s.V1Volume, volume)
    for mount in launcher["volume_mounts"]:
        k8s_snake_case_dict(k8s.V1VolumeMount, mount)
    step = executor_config("k8s-executor.yaml")["per_step_k8s_config"]["warehouse_tables"]
    k8s_snake_case_dict(k8s.V1PodSpec, step["pod_spec_config"])
    k8s_snake_case_dict(k8s.V1Container, step["container_config"])


def test_celery_executor_run_config_matches_the_executor_and_worker_schema() -> None:
    dagster_celery = pytest.importorskip(
        "dagster_celery", reason="dagster-celery is not installed (pip install -e '.[deploy]')"
    )
    schema = dagster_celery.celery_executor.config_schema.config_type
    result = process_config(schema, executor_config("celery-executor.yaml"))
    assert result.success, [error.message for error in result.errors or []]
    from dagster_celery.cli import get_validated_config  # what `worker start -y` runs

    assert get_validated_config(str(DEPLOY / "celery-executor.yaml"))["broker"]


# --- workspace and code server ---------------------------------------------------------------


def test_workspace_file_passes_dagsters_workspace_validation() -> None:
    path = DEPLOY / "workspace.yaml"
    config: Any = ensure_workspace_config(yaml.safe_load(path.read_text()), str(path))
    (entry,) = config["load_from"]
    assert entry["grpc_server"]["location_name"] == "calllogs"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def code_server(tmp_path: Path) -> Iterator[int]:
    """The documented `dagster code-server start` command, on loopback, stopped by the test."""
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "code-server-home")}
    (tmp_path / "code-server-home").mkdir()
    command = documented_command("dagster code-server start")
    command[command.index("-p") + 1] = str(port)
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster")), *command[1:]],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        client = DagsterGrpcClient(port=port, host="127.0.0.1")
        deadline = time.monotonic() + 60
        while True:
            try:
                client.ping("ready?")
                break
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    raise AssertionError(f"code server did not start: {process.stderr}") from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def test_the_workspace_loads_the_code_from_a_separate_code_server(
    code_server: int, tmp_path: Path
) -> None:
    text = (DEPLOY / "workspace.yaml").read_text().replace("port: 4266", f"port: {code_server}")
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(text)
    with (
        DagsterInstance.local_temp(str(tmp_path)) as instance,
        WorkspaceProcessContext(instance, WorkspaceFileTarget(paths=[str(workspace)])) as context,
    ):
        request = context.create_request_context()
        assert request.get_code_location_error("calllogs") is None
        (repository,) = request.get_code_location("calllogs").get_repositories().values()
        assert repository.has_job(SYNC_JOB_NAME)
        assert repository.has_schedule("incremental_sync")


# --- the commands deploy/README.md tells a user to type --------------------------------------


def readme_commands() -> list[list[str]]:
    text = (DEPLOY / "README.md").read_text()
    commands: list[list[str]] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL):
        for raw in block.splitlines():
            line = raw.split("#", 1)[0].strip()
            if line.startswith(("dagster", "dagster-")):
                commands.append(shlex.split(line))
    return commands


def documented_command(prefix: str) -> list[str]:
    return next(c for c in readme_commands() if " ".join(c).startswith(prefix))


def cli_for(program: str) -> click.Command | None:
    """The click command behind a console script (dagster-celery: only with the deploy extra)."""
    from dagster._cli import cli as dagster_cli
    from dagster._daemon.cli import cli as daemon_cli
    from dagster_webserver.cli import cli as webserver_cli

    found: object = {
        "dagster": dagster_cli,
        "dagster-webserver": webserver_cli,
        "dagster-daemon": daemon_cli,
    }.get(program)
    if program == "dagster-celery":
        try:
            from dagster_celery.cli import main as celery_cli
        except ModuleNotFoundError:
            return None
        found = celery_cli
    return found if isinstance(found, click.Command) else None


def test_every_documented_command_exists_with_those_options() -> None:
    commands = readme_commands()
    assert {c[0] for c in commands} >= {"dagster", "dagster-webserver", "dagster-daemon"}
    checked = 0
    for command in commands:
        cli = cli_for(command[0])
        if cli is None:  # dagster-celery without the deploy extra
            continue
        words = command[1:]
        context = click.Context(cli)
        while isinstance(cli, click.Group) and words and not words[0].startswith("-"):
            found = cli.get_command(context, words[0])
            assert found is not None, f"{' '.join(command)}: no command {words[0]!r}"
            cli, words = found, words[1:]
            context = click.Context(cli, parent=context)
        options = {opt for param in cli.params for opt in [*param.opts, *param.secondary_opts]}
        for word in words:
            if word.startswith("-"):
                assert word in options, f"{' '.join(command)}: unknown option {word}"
        checked += 1
    assert checked >= 7
