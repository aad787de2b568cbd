"""The Lambda package's third-party code, copied offline from this virtualenv.

Left to itself, `chalice package` runs `pip download -r requirements.txt` (network) and bundles
everything that names, boto3 and botocore included: dropping boto3 from requirements.txt would
not help, because pynamodb and chalice both pull in botocore. So `make package` stages the
project with no requirements.txt and a `vendor/` folder (which chalice copies into the zip as
is) holding the runtime closure of requirements.txt, taken from the installed distributions:

- the walk stops at boto3, botocore and s3transfer: the Lambda Python runtime provides them;
- chalice is the CLI; `chalice package` adds its runtime (`chalice/app.py`) by itself;
- installed versions must satisfy the pins in requirements.txt (the venv is built from it);
- every vendored wheel must be pure Python or CPython 3.11 manylinux x86_64 for glibc <= 2.26
  (Amazon Linux 2 under the python3.11 runtime), so what runs here is what runs in Lambda.
"""

from __future__ import annotations

import importlib.metadata as md
import re
import shutil
from pathlib import Path

from packaging.requirements import Requirement
from packaging.tags import parse_tag

PROVIDED_BY_LAMBDA = frozenset({"boto3", "botocore", "s3transfer"})
NOT_RUNTIME = frozenset({"chalice"})
LAMBDA_PYTHON = (3, 11)
LAMBDA_GLIBC = (2, 26)
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_requirements(path: Path) -> list[Requirement]:
    reqs = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            reqs.append(Requirement(line))
    return reqs


def _applies(req: Requirement, extras: set[str]) -> bool:
    if req.marker is None:
        return True
    return any(req.marker.evaluate({"extra": e}) for e in (extras or {""}) | {""})


def runtime_closure(requirements: Path) -> dict[str, md.Distribution]:
    """Installed distributions the deployed code needs, by canonical name."""
    found: dict[str, md.Distribution] = {}
    todo: list[tuple[Requirement, set[str]]] = [(r, set()) for r in read_requirements(requirements)]
    while todo:
        req, parent_extras = todo.pop()
        if not _applies(req, parent_extras):
            continue
        name = canonical(req.name)
        if name in PROVIDED_BY_LAMBDA or name in NOT_RUNTIME or name in found:
            continue
        dist = md.distribution(name)
        if req.specifier and not req.specifier.contains(dist.version, prereleases=True):
            raise RuntimeError(f"{name} {dist.version} is installed but {req} is required; "
                               "run `make` so the venv matches the requirements")
        found[name] = dist
        todo.extend((Requirement(r), set(req.extras)) for r in dist.requires or [])
    return found


def lambda_compatible(dist: md.Distribution) -> bool:
    """Whether the installed wheel runs on the python3.11 x86_64 Lambda runtime."""
    wheel = dist.read_text("WHEEL") or ""
    tags = [t for line in wheel.splitlines() if line.startswith("Tag:")
            for t in parse_tag(line.split(":", 1)[1].strip())]
    return any(_tag_ok(t.interpreter, t.abi, t.platform) for t in tags)


def _tag_ok(interpreter: str, abi: str, platform: str) -> bool:
    major, minor = LAMBDA_PYTHON
    if interpreter.startswith("py"):
        py_ok = interpreter in ("py3", f"py{major}{minor}", f"py{major}")
    elif interpreter.startswith("cp"):
        version = int(interpreter[3:] or 0)
        py_ok = interpreter == f"cp{major}{minor}" or (abi == "abi3" and version <= minor)
    else:
        py_ok = False
    abi_ok = abi in ("none", "abi3", f"cp{major}{minor}")
    if platform == "any":
        return py_ok and abi_ok
    match = re.fullmatch(r"(manylinux\d*)(?:_(\d+)_(\d+))?_x86_64", platform)
    if not match:
        return False
    glibc = (int(match[2]), int(match[3])) if match[2] else _LEGACY_MANYLINUX.get(match[1])
    return py_ok and abi_ok and glibc is not None and glibc <= LAMBDA_GLIBC


# Files no code of ours ever loads, left out of the zip: type stubs (read by type checkers
# only), each distribution's RECORD (the file list pip uninstalls by; `importlib.metadata` reads
# versions from METADATA), and phonenumbers' short-code metadata (`shortdata/region_*.py`, loaded
# only by `phonenumbers.shortnumberinfo` for numbers like 911: we read full numbers only; the
# package's `__init__` stays, so importing phonenumbers works).
def _unused(rel: Path) -> bool:
    if rel.suffix == ".pyi" or (rel.parts[0].endswith(".dist-info") and rel.name == "RECORD"):
        return True
    return rel.parts[:2] == ("phonenumbers", "shortdata") and rel.name.startswith("region_")


def copy_into(dists: dict[str, md.Distribution], vendor: Path) -> None:
    """Copy each distribution's installed files (no bytecode, no scripts) under `vendor/`."""
    bad = sorted(n for n, d in dists.items() if not lambda_compatible(d))
    if bad:
        raise RuntimeError(f"not installable on the python3.11 Lambda runtime: {', '.join(bad)}")
    for dist in dists.values():
        for rel in dist.files or []:
            if rel.parts[0] == ".." or "__pycache__" in rel.parts or rel.suffix == ".pyc" \
                    or _unused(Path(rel)):
                continue
            src = Path(str(dist.locate_file(rel)))
            if src.is_file():
                dest = vendor / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest)
