"""Check what `make dist` built, as a user gets it: the files each distribution carries, then the wheel
installed (not editable) into a fresh venv with Airflow 3.3.2, where `airflow providers list` must show
the provider with its docs URL and every example DAG must import from the installed package.

Usage: python scripts/check_dist.py [--dist dist] [--venv .venv-dist-check] [--skip-install]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from airflow_provider_gtm import DOCS_URL, __version__  # noqa: E402  (the checkout's, before anything is installed)

AIRFLOW = "3.3.2"


def say(message: str) -> None:
    print(f">>> {message}", flush=True)


def sample_dags() -> list[str]:
    return sorted(p.name for p in (REPO / "dags").glob("gtm_*.py"))


def only(paths: list[Path], what: str) -> Path:
    if len(paths) != 1:
        raise SystemExit(f"expected one {what} for version {__version__}, found {[p.name for p in paths]}")
    return paths[0]


def check_wheel(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    meta = f"airflow_provider_gtm-{__version__}.dist-info"
    wanted = {"airflow_provider_gtm/py.typed", "airflow_provider_gtm/example_dags/__init__.py"}
    wanted |= {f"airflow_provider_gtm/example_dags/{name}" for name in sample_dags()}
    missing = sorted(wanted - names)
    # setuptools 77+ puts licence files under .dist-info/licenses/, older releases beside METADATA.
    for licence in ("LICENSE", "NOTICE"):
        if not {f"{meta}/licenses/{licence}", f"{meta}/{licence}"} & names:
            missing.append(f"{meta}/licenses/{licence}")
    if missing:
        raise SystemExit(f"{wheel.name} lacks {missing}")
    say(f"{wheel.name}: LICENSE, NOTICE, py.typed and {len(sample_dags())} example DAGs")


def check_sdist(sdist: Path) -> None:
    root = f"airflow_provider_gtm-{__version__}"
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    wanted = {"LICENSE", "NOTICE", "CHANGELOG.md", "README.md", "tests/conftest.py", "docs/conf.py",
              "docs/index.rst", "dags/__init__.py", "constraints/airflow-3.3.txt", "Makefile"}
    wanted |= {f"dags/{name}" for name in sample_dags()}
    missing = sorted(wanted - names)
    if missing:
        raise SystemExit(f"{sdist.name} ({root}) lacks {missing}")
    say(f"{sdist.name}: licence, changelog, tests, docs and sample DAGs")


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, check=True, text=True, **kwargs)  # type: ignore[call-overload]
    except subprocess.CalledProcessError as error:
        raise SystemExit(f"{command[:3]} failed ({error.returncode}):\n{(error.stderr or '')[-3000:]}") from None


def check_installed(wheel: Path, venv: Path) -> None:
    shutil.rmtree(venv, ignore_errors=True)
    say(f"installing {wheel.name} with Airflow {AIRFLOW} into a fresh {venv} (pip's cache makes it ~1 min)")
    run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"])
    run([str(python), "-m", "pip", "install", "-q", "-c", str(REPO / "constraints/airflow-3.3.txt"),
         f"apache-airflow=={AIRFLOW}", str(wheel)])
    with tempfile.TemporaryDirectory() as home:
        # Outside the checkout, so nothing but the installed package can be imported.
        env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "AIRFLOW_HOME": home, "HOME": home,
               "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
        listed = run([str(venv / "bin" / "airflow"), "providers", "list", "-o", "json"], cwd=home, env=env,
                     capture_output=True).stdout
        providers = {p["package_name"]: p for p in json.loads(listed[listed.index("["):])}
        ours = providers.get("airflow-provider-gtm")
        if not ours or ours["version"] != __version__ or DOCS_URL not in ours["description"]:
            raise SystemExit(f"`airflow providers list` shows {ours!r}, not version {__version__} with {DOCS_URL}")
        say(f"airflow providers list: airflow-provider-gtm {ours['version']}, docs {DOCS_URL}")
        modules = [f"airflow_provider_gtm.example_dags.{Path(name).stem}" for name in sample_dags()]
        # Import each module from the installed package, then parse the installed folder as the DAG
        # processor does: every DAG defined, no import error.
        probe = (
            "import importlib, json, sys\n"
            "from pathlib import Path\n"
            "from airflow_provider_gtm.compat import DagBag\n"
            "files = []\n"
            "for name in sys.argv[1:]:\n"
            "    module = importlib.import_module(name)\n"
            "    assert '/site-packages/' in module.__file__, module.__file__\n"
            "    files.append(module.__file__)\n"
            "folder = Path(files[0]).parent\n"
            "bag = DagBag(dag_folder=str(folder))\n"
            "print(json.dumps({'folder': str(folder), 'dags': sorted(bag.dag_ids),\n"
            "                  'errors': {k: str(v)[-500:] for k, v in bag.import_errors.items()}}))\n"
        )
        found = json.loads(run([str(python), "-c", probe, *modules], cwd=home, env=env,
                               capture_output=True).stdout.strip().splitlines()[-1])
        if found["errors"] or len(found["dags"]) < len(modules):
            raise SystemExit(f"the installed example DAGs ({found['folder']}) parse to {found['dags']} with "
                             f"import errors {found['errors']}")
        say(f"example DAGs import from the installed package ({found['folder']}): {found['dags']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=REPO / "dist")
    parser.add_argument("--venv", type=Path, default=REPO / ".venv-dist-check")
    parser.add_argument("--skip-install", action="store_true", help="only check the files in each distribution")
    args = parser.parse_args()
    wheel = only(sorted(args.dist.glob(f"airflow_provider_gtm-{__version__}-*.whl")), "wheel")
    sdist = only(sorted(args.dist.glob(f"airflow_provider_gtm-{__version__}.tar.gz")), "sdist")
    check_wheel(wheel)
    check_sdist(sdist)
    if not args.skip_install:
        check_installed(wheel, args.venv)
    say("dist OK")


if __name__ == "__main__":
    os.environ.pop("PYTHONPATH", None)
    main()
