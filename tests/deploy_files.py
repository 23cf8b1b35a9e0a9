"""Readers for the deployment files: the compose file with deploy/.env.example filled in, the
Dockerfile's instructions, the Makefile's targets, the settings the app reads, and whether a
`flask` command exists. Used by tests/test_deploy.py."""

import ast
import json
import re
import shlex
from pathlib import Path

import click
import yaml
from flask.cli import FlaskGroup, ScriptInfo

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"
DOCKERFILE = DEPLOY / "Dockerfile"

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
_ENV_READERS = {"_env_bool", "_env_list", "_int_env"}


def env_example() -> dict[str, str]:
    """deploy/.env.example as a dict (the values compose would substitute)."""
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def variables_used(text: str) -> dict[str, str | None]:
    """Each ${NAME...} in a compose text, with its operator (None, ':-', ':?', '-', '?')."""
    return {match.group(1): match.group(2) for match in _VARIABLE.finditer(text)}


def interpolate(text: str, values: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error} substitution."""

    def substitute(match: re.Match) -> str:
        name, operator, argument = match.groups()
        value = values.get(name)
        empty = value is None or ((operator or "").startswith(":") and value == "")
        if operator in (":?", "?") and empty:
            raise ValueError(f"{name} is required: {argument}")
        if operator in (":-", "-") and empty:
            return argument
        return value or ""

    return _VARIABLE.sub(substitute, text)


def compose(values: dict[str, str] | None = None) -> dict:
    """The compose file as compose would read it with these values (default: .env.example)."""
    text = interpolate(COMPOSE_FILE.read_text(), env_example() if values is None else values)
    return yaml.safe_load(text)


def service_commands(service: dict) -> list[list[str]]:
    """The programs a service runs: its command, each part of an `sh -c "a && b"`."""
    command = service.get("command")
    if command is None:
        return []
    argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    if argv[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in argv[2].split("&&")]
    return [argv]


def healthcheck_command(service: dict) -> list[str]:
    test = service["healthcheck"]["test"]
    return shlex.split(test[1]) if test[0] == "CMD-SHELL" else list(test[1:])


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    pairs = [line.split(None, 1) for line in lines if line and not line.startswith("#")]
    return [(pair[0].upper(), pair[1] if len(pair) > 1 else "") for pair in pairs]


def dockerfile_argv(arguments: str) -> list[str]:
    """A CMD/ENTRYPOINT/HEALTHCHECK CMD in exec (JSON) or shell form, as argv."""
    return json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)


def dockerfile_env_names(arguments: str) -> list[str]:
    return [pair.split("=", 1)[0] for pair in shlex.split(arguments)]


def make_targets() -> set[str]:
    rule = re.compile(r"^([A-Za-z0-9_.-]+(?:\s+[A-Za-z0-9_.-]+)*)\s*:(?!=)", re.MULTILINE)
    return {
        name
        for match in rule.finditer((ROOT / "Makefile").read_text())
        for name in match[1].split()
    }


def settings_read() -> set[str]:
    """Environment variables config.py and gunicorn.conf.py read."""
    names = set()
    for path in (ROOT / "config.py", ROOT / "gunicorn.conf.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and node.args and _reads_env(node.func):
                names |= _constant(node.args[0])
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("environ"):
                names |= _constant(node.slice)
    return names


def _reads_env(func: ast.expr) -> bool:
    text = ast.unparse(func)
    return text.endswith("environ.get") or text in _ENV_READERS


def _constant(node: ast.expr) -> set[str]:
    return {node.value} if isinstance(node, ast.Constant) and isinstance(node.value, str) else set()


def flask_command(app, words: list[str]) -> click.Command | None:
    """The `flask` command these words name (options and arguments after it ignored), or None."""
    group = FlaskGroup(create_app=lambda: app)
    command: click.Command | None = group
    # Closing the context pops the app context FlaskGroup pushes while looking commands up;
    # left pushed, it would leak into every later test (and its session would hold locks).
    with click.Context(group, obj=ScriptInfo(create_app=lambda: app)) as context:
        for word in words:
            if word.startswith("-") or not isinstance(command, click.Group):
                break
            command = command.get_command(context, word)
    return command


def doc_commands(path: Path) -> list[list[str]]:
    """The commands a Markdown page names: each line of its ```sh blocks and each inline
    `make …`, `flask …`, `gunicorn …` or `docker compose …`, as argv, with environment
    assignments, `export` lines, comments and redirections left out."""
    text = path.read_text()
    lines = [
        line
        for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
        for line in block.splitlines()
    ]
    lines += re.findall(r"`((?:make|flask|gunicorn|docker compose) [^`]+)`", text)
    commands = []
    for line in lines:
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "export ")):
            continue
        for part in line.split("&&"):
            argv = shlex.split(part)
            argv = [w for w in argv if not re.match(r"^[A-Z_]+=", w)] if argv else argv
            for stop in ("<", ">", "|"):
                argv = argv[: argv.index(stop)] if stop in argv else argv
            if argv:
                commands.append(argv)
    return commands
