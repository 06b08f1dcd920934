"""Docker cannot run here: check that every path the Dockerfile copies exists, that its
commands parse as the CLI understands them, and that compose passes the secrets by env."""

from __future__ import annotations

import json
import re
from pathlib import Path

import bot

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, rest = line.partition(" ")
            out.append((op.upper(), rest.strip()))
    return out


def test_every_copied_path_exists():
    copies = [rest.split()[:-1] for op, rest in instructions() if op == "COPY"]
    assert copies
    for sources in copies:
        for src in sources:
            assert (ROOT / src).exists(), f"Dockerfile copies {src}, which does not exist"


def test_every_package_is_copied():
    copied = {s for op, rest in instructions() if op == "COPY" for s in rest.split()[:-1]}
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages <= copied, f"packages not in the image: {packages - copied}"


def test_cmd_and_healthcheck_are_valid_cli_invocations():
    ops = dict(instructions())
    cmd = json.loads(ops["CMD"])
    health = json.loads(ops["HEALTHCHECK"].split("CMD", 1)[1])
    for argv in (cmd, health):
        assert argv[:2] == ["python", "bot.py"]
        bot.build_parser().parse_args(argv[2:])
    assert cmd[2] == "run" and health[2] == "health"


def test_runs_as_non_root_with_a_data_volume():
    ops = instructions()
    assert ("USER", "hedgewatch") in ops
    assert any(op == "VOLUME" and "/data" in rest for op, rest in ops)
    assert ops[0][0] == "FROM" and "slim" in ops[0][1]


def test_lock_is_what_the_image_installs():
    assert any(op == "RUN" and "-r requirements.txt" in rest for op, rest in instructions())
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            assert "==" in line, f"unpinned requirement: {line}"


def test_compose_passes_secrets_from_the_environment_only():
    compose = (ROOT / "docker-compose.yml").read_text()
    for var in ("TELEGRAM_BOT_TOKEN", "OKX_API_KEY", "OKX_API_SECRET", "OKX_API_PASSPHRASE"):
        assert re.search(rf"{var}: \$\{{{var}", compose), var
