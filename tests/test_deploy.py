"""deploy/ and docs/deploy.md name only commands, files, services and settings that exist.

Docker has neither a daemon nor the compose plugin on the development and CI machines, so the
compose file and the Dockerfile are checked by reading them; `docker compose config` runs too
wherever Docker Compose is installed.
"""

import shlex
import shutil
import subprocess

import pytest

from tests.deploy_files import (
    COMPOSE_FILE,
    DEPLOY,
    ENV_EXAMPLE,
    ROOT,
    compose,
    doc_commands,
    dockerfile_argv,
    dockerfile_env_names,
    dockerfile_instructions,
    env_example,
    flask_command,
    healthcheck_command,
    make_targets,
    service_commands,
    settings_read,
    variables_used,
)

# Variables the Dockerfile sets for the tools in the image rather than for the app.
READ_BY_TOOLS = {
    "FLASK_APP": "the flask command",
    "PYTHONDONTWRITEBYTECODE": "python",
    "PYTHONUNBUFFERED": "python",
    "PIP_NO_CACHE_DIR": "pip",
    "PIP_DISABLE_PIP_VERSION_CHECK": "pip",
}
# Programs of the third-party images the compose file and docs/deploy.md run.
IMAGE_PROGRAMS = {
    "postgres:15": {"postgres", "pg_isready", "pg_dump", "pg_restore", "psql"},
    "redis:7": {"redis-server", "redis-cli"},
}
OUR_PROGRAMS = {"flask", "gunicorn", "python", "sh"}


def check_program(app, argv: list[str]) -> None:
    """Fail unless argv runs something that exists in our image (or the repository)."""
    program, rest = argv[0], argv[1:]
    assert program in OUR_PROGRAMS, f"{argv}: not a program of our image"
    if program == "flask":
        assert flask_command(app, rest) is not None, f"no such command: flask {' '.join(rest)}"
    elif program == "gunicorn":
        config = rest[rest.index("-c") + 1]
        assert (ROOT / config).is_file(), f"{config} is missing"
        module, _, attribute = rest[-1].partition(":")
        assert f"\n{attribute} = " in (ROOT / f"{module}.py").read_text()
    elif program == "python":
        assert (ROOT / rest[0]).is_file(), f"{rest[0]} is missing"


def _app_services(spec: dict) -> dict:
    return {name: s for name, s in spec["services"].items() if "build" in s}


def test_every_service_runs_a_command_that_exists(app):
    spec = compose()
    for name, service in spec["services"].items():
        commands = service_commands(service)
        if "healthcheck" in service:
            commands.append(healthcheck_command(service))
        for argv in commands:
            if "build" in service:
                check_program(app, argv)
            else:
                assert argv[0] in IMAGE_PROGRAMS[service["image"]], f"{name}: {argv}"


def test_every_file_the_compose_file_and_the_dockerfile_name_exists():
    for service in _app_services(compose()).values():
        context = (COMPOSE_FILE.parent / service["build"]["context"]).resolve()
        assert context == ROOT
        assert (context / service["build"]["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    for instruction, arguments in dockerfile_instructions():
        if instruction == "COPY":
            for source in shlex.split(arguments)[:-1]:
                assert (ROOT / source).exists(), f"COPY {source}: missing"
        if instruction == "RUN":
            for word in shlex.split(arguments):
                if word.endswith((".lock", ".txt")) or word.startswith("marketplace/"):
                    assert (ROOT / word).exists(), f"RUN names {word}, which is missing"


def test_the_image_is_python_3_11_slim_run_by_a_user_who_is_not_root(app):
    instructions = dockerfile_instructions()
    assert ("FROM", "python:3.11-slim") in instructions
    users = [arguments for instruction, arguments in instructions if instruction == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(i == "RUN" and "-r requirements.lock" in a for i, a in instructions)
    assert any(i == "RUN" and "pybabel -q compile" in a for i, a in instructions)
    (command,) = [dockerfile_argv(a) for i, a in instructions if i == "CMD"]
    assert command == ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
    check_program(app, command)


def test_every_variable_set_for_the_app_is_one_it_reads(app):
    read = settings_read()
    for name, service in _app_services(compose()).items():
        unknown = set(service["environment"]) - read
        assert not unknown, (
            f"{name} sets {sorted(unknown)}, which neither config.py nor gunicorn.conf.py reads"
        )
    for instruction, arguments in dockerfile_instructions():
        if instruction == "ENV":
            unknown = set(dockerfile_env_names(arguments)) - read - set(READ_BY_TOOLS)
            assert not unknown, f"the Dockerfile sets {sorted(unknown)}, which nothing reads"


def test_env_example_defines_every_required_variable_and_nothing_unused():
    used = variables_used(COMPOSE_FILE.read_text())
    example = env_example()
    required = {name for name, operator in used.items() if operator in (None, ":?", "?")}
    assert required <= set(example), f"missing from .env.example: {required - set(example)}"
    assert set(example) <= set(used), f"unused in compose.yaml: {set(example) - set(used)}"
    for name in required:
        assert example[name], f"{name} needs an example value"
    assert "change-me" in example["SECRET_KEY"], "an example, never a real secret"


def test_exactly_one_scheduler_and_web_checks_healthz():
    spec = compose()
    schedulers = [
        name
        for name, service in spec["services"].items()
        if ["flask", "jobs", "scheduler"] in service_commands(service)
    ]
    assert schedulers == ["scheduler"]
    assert int(spec["services"]["scheduler"]["deploy"]["replicas"]) == 1
    web = spec["services"]["web"]
    # tests/test_serving.py runs deploy/healthcheck.py against a live gunicorn.
    assert healthcheck_command(web) == ["python", "deploy/healthcheck.py"]


@pytest.mark.parametrize("only_required", [False, True], ids=["env-example", "defaults"])
def test_web_replicas_fit_their_port_range_and_wait_for_the_migration(only_required):
    spec = compose(_required_only() if only_required else env_example())
    web = spec["services"]["web"]
    first, last = web["ports"][0].split(":")[-2].split("-")
    assert int(web["deploy"]["replicas"]) <= int(last) - int(first) + 1
    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert spec["services"]["migrate"]["restart"] == "no"


def _required_only() -> dict:
    """Only the values compose cannot do without: every optional one takes its default."""
    used = variables_used(COMPOSE_FILE.read_text())
    return {k: v for k, v in env_example().items() if used.get(k) in (None, ":?", "?")}


def test_redis_keeps_queued_jobs_on_disk_and_postgres_is_15():
    services = compose()["services"]
    command = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in command
    assert "--maxmemory-policy noeviction" in command
    assert services["redis"]["image"] == "redis:7"
    assert services["postgres"]["image"] == "postgres:15"


def test_docker_compose_accepts_the_file():
    """Docker Compose's own check, where it is installed (not on these machines)."""
    if (
        shutil.which("docker") is None
        or subprocess.run(["docker", "compose", "version"], capture_output=True).returncode
    ):
        pytest.skip("Docker Compose is not installed here; the tests above read the file instead")
    done = subprocess.run(
        [
            "docker",
            "compose",
            "-f",
            str(COMPOSE_FILE),
            "--env-file",
            str(ENV_EXAMPLE),
            "config",
            "-q",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


COMPOSE_SUBCOMMANDS = {"build", "config", "down", "exec", "logs", "ps", "pull", "restart", "run"}
COMPOSE_SUBCOMMANDS |= {"stop", "up"}
# Options of the subcommands our guide uses that take a value (`-f` after `logs` is --follow).
SUBCOMMAND_OPTIONS_WITH_VALUE = {"-e", "--env", "--scale", "-u", "--user", "-w", "--workdir"}


def check_doc_command(app, argv: list[str]) -> None:
    """Fail unless a command docs/deploy.md names exists."""
    if argv[0] == "make":
        assert argv[1] in make_targets(), f"no make target {argv[1]}"
    elif argv[:2] == ["docker", "compose"]:
        check_compose_command(app, argv[2:])
    elif argv[0] in OUR_PROGRAMS:
        check_program(app, argv)
    else:
        assert shutil.which(argv[0]), f"{argv[0]} is not installed"


def check_compose_command(app, words: list[str]) -> None:
    """`docker compose -f deploy/compose.yaml SUBCOMMAND [options] [SERVICE…]` or, for run and
    exec, `SERVICE [COMMAND…]`, checked against our compose file."""
    services = compose()["services"]
    assert words[:2] == ["-f", "deploy/compose.yaml"], f"docker compose {words}: name the file"
    subcommand, rest = words[2], iter(words[3:])
    assert subcommand in COMPOSE_SUBCOMMANDS, f"docker compose {subcommand}"
    names = []
    for word in rest:
        if word in SUBCOMMAND_OPTIONS_WITH_VALUE:
            value = next(rest)
            assert word != "--scale" or value.split("=")[0] in services
        elif not word.startswith("-"):
            names.append(word)
            if subcommand in ("run", "exec"):
                break
    for name in names:
        assert name in services, f"no service {name} in deploy/compose.yaml"
    command = list(rest)
    if command:
        service = services[names[0]]
        if "build" in service:
            check_program(app, command)
        else:
            assert command[0] in IMAGE_PROGRAMS[service["image"]], command


def test_every_command_in_the_deployment_guide_exists(app):
    commands = doc_commands(ROOT / "docs" / "deploy.md")
    assert len(commands) >= 10, "the guide's commands were not found"
    for argv in commands:
        check_doc_command(app, argv)


def test_serve_is_a_make_target():
    assert "serve" in make_targets()
