"""`make package`: a CloudFormation (SAM) template and deployment zip for a stage, offline.

1. Stage the project under `<out>/project/`: app.py, chalicelib/, .chalice/ (config, policies),
   no requirements.txt, and `vendor/` = the runtime closure of requirements.txt copied from this
   venv without boto3/botocore (see vendor.py; the Lambda runtime provides them).
2. Generate the merge template from the code (template.py) in a fresh interpreter with the
   stage's environment, so table, queue and bucket names are the stage's.
3. `chalice package --stage <stage> --merge-template <merge> <out>/out/`.
4. Check the result: the secrets policy covers every Lambda role, no secret is in it, the zip
   holds no boto3/botocore and fits the size budget; then cfn-lint it and report policy gaps.

    python -m devtools.deploy.package [--stage prod] [--out .local/package] [--no-lint]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from chalicelib.settings import SECRET_NAMES  # reads no environment at import
from devtools.deploy import template as merge
from devtools.deploy import vendor

ROOT = merge.ROOT
VENV_BIN = Path(sys.executable).parent
DEFAULT_OUT = ROOT / ".local" / "package"
ZIP_BUDGET_BYTES = 10_000_000  # 10 MB: fast cold starts and uploads; Lambda allows 50 MB zipped
FORBIDDEN_IN_ZIP = ("boto3", "botocore", "s3transfer")
SECRET_VALUE = re.compile(r"\b(sk|rk|pk)_(live|test)_[0-9A-Za-z]+|\bwhsec_[0-9A-Za-z]+")
SAMPLE_ARN_ACCOUNT = "us-east-1:123456789012"


@dataclass(frozen=True)
class Package:
    template: Path  # sam.json
    zip: Path  # deployment.zip
    merge_template: Path

    def load(self) -> dict[str, Any]:
        return dict(json.loads(self.template.read_text()))


def stage_project(dest: Path) -> Path:
    """A copy of what ships (app, chalicelib, .chalice config) plus vendor/; no requirements.txt."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copy2(ROOT / "app.py", dest / "app.py")
    shutil.copytree(ROOT / "chalicelib", dest / "chalicelib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.po", "*.pot"))
    (dest / ".chalice").mkdir()
    for f in (ROOT / ".chalice").glob("*.json"):
        shutil.copy2(f, dest / ".chalice" / f.name)
    vendor.copy_into(vendor.runtime_closure(ROOT / "requirements.txt"), dest / "vendor")
    return dest


def _env() -> dict[str, str]:
    """A clean environment: nothing from a dev shell (STAGE, *_TABLE, TABLE_PREFIX, secrets,
    AWS_ENDPOINT_URL…) may leak into the stage's names or the template."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    # chalice imports the staged app: no bytecode may be written into what gets zipped.
    env.update({"AWS_DEFAULT_REGION": "us-east-1", "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def _chalice_package(project: Path, stage: str, dest: Path, merge_file: Path | None) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    args = [str(VENV_BIN / "chalice"), "--project-dir", str(project), "package", "--stage", stage]
    if merge_file is not None:
        args += ["--merge-template", str(merge_file)]
    subprocess.run([*args, str(dest)], cwd=project, env=_env(), check=True, stdout=subprocess.DEVNULL)
    return dest / "sam.json"


def queue_consumers(template: dict[str, Any]) -> list[tuple[str, str]]:
    """(function logical id, queue name) for each SQS event source chalice generated."""
    found = []
    for name, res in template["Resources"].items():
        for event in (res.get("Properties", {}).get("Events") or {}).values():
            if event.get("Type") == "SQS":
                arn = event["Properties"]["Queue"]
                text = arn.get("Fn::Sub", "") if isinstance(arn, dict) else arn
                found.append((name, text.rsplit(":", 1)[-1]))
    return found


def lambda_handlers(template: dict[str, Any]) -> dict[str, str]:
    """Each function's logical id and handler (`app.app`, `chalicelib.api.jobs.drain_outbox`)."""
    return {k: v["Properties"]["Handler"] for k, v in template["Resources"].items()
            if v["Type"] == "AWS::Serverless::Function"}


def lambda_roles(template: dict[str, Any]) -> list[str]:
    return sorted(k for k, v in template["Resources"].items() if v["Type"] == "AWS::IAM::Role")


def build(out: Path = DEFAULT_OUT, stage: str = "prod") -> Package:
    out = out.resolve()
    project = stage_project(out / "project")
    # First pass: learn the role chalice makes for each function (the secrets policy names them).
    bare = json.loads(_chalice_package(project, stage, out / "bare", None).read_text())
    merge_file = out / "merge-template.json"
    roles = [arg for role in lambda_roles(bare) for arg in ("--role", role)]
    consumers = [arg for fn, queue in queue_consumers(bare) for arg in ("--consumer", f"{fn}={queue}")]
    functions = [arg for fn, handler in lambda_handlers(bare).items()
                 for arg in ("--function", f"{fn}={handler}")]
    subprocess.run([sys.executable, "-m", "devtools.deploy.template", "--stage", stage,
                    "--out", str(merge_file), *roles, *consumers, *functions],
                   cwd=ROOT, env=_env(), check=True)
    result_dir = out / "out"
    _chalice_package(project, stage, result_dir, merge_file)
    shutil.rmtree(out / "bare")
    package = Package(result_dir / "sam.json", result_dir / "deployment.zip", merge_file)
    problems = check(package)
    if problems:
        raise SystemExit("package problems:\n  " + "\n  ".join(problems))
    return package


# --- checks -------------------------------------------------------------------------------------
def zip_top_levels(path: Path) -> Counter[str]:
    """Compressed bytes per top-level name in the zip (a package, a module, app.py)."""
    sizes: Counter[str] = Counter()
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            top = info.filename.split("/", 1)[0]
            top = re.sub(r"-[^-]+\.dist-info$", "", top)  # group metadata with its package
            sizes[top.removesuffix(".py")] += info.compress_size
    return sizes


def check(package: Package) -> list[str]:
    """What would make this package wrong to deploy (empty when fine)."""
    problems = []
    template = package.load()
    resources = template["Resources"]
    if "SecretsReadPolicy" not in resources:
        return ["the merge template's SecretsReadPolicy is missing from the result"]
    attached = {r["Ref"] for r in resources["SecretsReadPolicy"]["Properties"]["Roles"]}
    if set(lambda_roles(template)) != attached:
        problems.append(f"the secrets policy is attached to {sorted(attached)}, "
                        f"but the Lambda roles are {lambda_roles(template)}")
    problems += [f"secret {name} is in the environment of {fn}"
                 for fn, name in secret_env_vars(template)]
    if SECRET_VALUE.search(package.template.read_text()):
        problems.append("something shaped like a Stripe key or webhook secret is in the template")
    tops = zip_top_levels(package.zip)
    problems += [f"{name} is in deployment.zip (the Lambda runtime provides it)"
                 for name in FORBIDDEN_IN_ZIP if name in tops]
    size = package.zip.stat().st_size
    if size > ZIP_BUDGET_BYTES:
        problems.append(f"deployment.zip is {size / 1e6:.1f} MB, over the 10 MB budget")
    return problems


def secret_env_vars(template: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for name, res in template["Resources"].items():
        variables = res.get("Properties", {}).get("Environment", {}).get("Variables", {})
        found += [(name, v) for v in variables if v in SECRET_NAMES]
    env = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    found += [("Globals", v) for v in env if v in SECRET_NAMES]
    return found


def lint(template: Path) -> tuple[list[str], list[str]]:
    """cfn-lint's (errors, warnings-and-informational) for the template."""
    proc = subprocess.run([str(VENV_BIN / "cfn-lint"), "--format", "parseable", "--", str(template)],
                          capture_output=True, text=True, env=_env())
    if proc.returncode not in (0, 2, 4, 6, 8, 10, 12, 14) or "Traceback" in proc.stderr:
        raise RuntimeError(f"cfn-lint failed to run ({proc.returncode}): {proc.stderr[-2000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    errors = [line for line in lines if re.search(r":E\d{4}:", line)]
    return errors, [line for line in lines if line not in errors]


def _covered(policy: dict[str, Any], service: str, arn: str) -> bool:
    for st in policy["Statement"]:
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        patterns = st.get("Resource", [])
        patterns = [patterns] if isinstance(patterns, str) else patterns
        if st.get("Effect") == "Allow" and any(a == "*" or a.startswith(f"{service}:") for a in actions) \
                and any(fnmatchcase(arn, p) for p in patterns):
            return True
    return False


def required_arns(template: dict[str, Any]) -> list[tuple[str, str]]:
    """(service, a concrete ARN) for every table, index, queue and bucket the template declares."""
    arns = []
    base = f"arn:aws:{{}}:{SAMPLE_ARN_ACCOUNT}"
    for res in template["Resources"].values():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::DynamoDB::Table":
            table = base.format("dynamodb") + f":table/{props['TableName']}"
            arns.append(("dynamodb", table))
            indexes = props.get("GlobalSecondaryIndexes", []) + props.get("LocalSecondaryIndexes", [])
            arns += [("dynamodb", f"{table}/index/{i['IndexName']}") for i in indexes]
        elif res["Type"] == "AWS::SQS::Queue" and not props["QueueName"].split(".")[0].endswith("-dlq"):
            arns.append(("sqs", base.format("sqs") + f":{props['QueueName']}"))
        elif res["Type"] == "AWS::S3::Bucket":
            arns.append(("s3", f"arn:aws:s3:::{props['BucketName']}/export.csv"))
    return arns


def unmodelled_tables(template: dict[str, Any], stage: str = "prod") -> list[str]:
    """`*_TABLE` variables of the stage whose table the template does not declare."""
    declared = {r["Properties"]["TableName"] for r in template["Resources"].values()
                if r["Type"] == "AWS::DynamoDB::Table"}
    env = merge.stage_config(stage)["environment_variables"]
    return sorted(k for k, v in env.items() if k.endswith("_TABLE") and v not in declared)


def policies(stage: str = "prod") -> dict[str, dict[str, Any]]:
    """Each hand-written IAM policy of the stage by file name: the stage's default and each
    function's own (`lambda_functions.<name>.iam_policy_file` in `.chalice/config.json`)."""
    config = merge.stage_config(stage)
    names = [config.get("iam_policy_file", f"policy-{stage}.json")]
    names += [fn["iam_policy_file"] for fn in config.get("lambda_functions", {}).values()
              if "iam_policy_file" in fn]
    return {name: json.loads((ROOT / ".chalice" / name).read_text()) for name in dict.fromkeys(names)}


def policy_gaps(template: dict[str, Any], stage: str = "prod") -> list[str]:
    """Tables and indexes some policy of the stage does not reach (every function shares the
    data), and queues and buckets no policy of the stage reaches (each is some function's)."""
    found = policies(stage)
    gaps = []
    for service, arn in required_arns(template):
        if service == "dynamodb":
            gaps += [f"{arn} (in {name})" for name, policy in found.items()
                     if not _covered(policy, service, arn)]
        elif not any(_covered(policy, service, arn) for policy in found.values()):
            gaps.append(arn)
    return gaps


_IAM_PREFIX = {"sesv2": "ses", "dynamodbstreams": "dynamodb"}


def service_gaps(stage: str = "prod") -> list[str]:
    """AWS services chalicelib creates boto3 clients for, on which no policy allows anything."""
    allowed = set()
    for policy in policies(stage).values():
        for st in policy["Statement"]:
            actions = st.get("Action", [])
            for action in [actions] if isinstance(actions, str) else actions:
                if st.get("Effect") == "Allow":
                    allowed.add(action.split(":", 1)[0])
    gaps = []
    for path in sorted((ROOT / "chalicelib").rglob("*.py")):
        for service in re.findall(r"boto3\.client\(\s*[\"'](\w+)[\"']", path.read_text()):
            prefix = _IAM_PREFIX.get(service, service)
            if prefix not in allowed and "*" not in allowed:
                where = path.relative_to(ROOT)
                gaps.append(f"no {prefix}:* action, but {where} calls boto3.client({service!r})")
    return sorted(set(gaps))


# --- CLI ----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--no-lint", action="store_true")
    args = parser.parse_args(argv)
    package = build(args.out, args.stage)
    template = package.load()
    kinds = Counter(r["Type"] for r in template["Resources"].values())
    print(f"\n{package.template}")
    for kind, n in sorted(kinds.items()):
        print(f"  {n:3d}  {kind}")
    size = package.zip.stat().st_size
    tops = zip_top_levels(package.zip)
    print(f"deployment.zip: {size / 1e6:.2f} MB (budget {ZIP_BUDGET_BYTES / 1e6:.1f} MB); largest: "
          + ", ".join(f"{k} {v / 1e6:.2f}" for k, v in tops.most_common(6)))
    for var in unmodelled_tables(template, args.stage):
        print(f"NOTE: .chalice/config.json names {var} but no model in ALL_MODELS declares it")
    gaps = policy_gaps(template, args.stage)
    for arn in gaps:
        print(f"POLICY GAP: no policy of the {args.stage} stage allows {arn}")
    for gap in service_gaps(args.stage):
        print(f"POLICY GAP: the {args.stage} stage's policies have {gap}")
    if not args.no_lint:
        errors, warnings = lint(package.template)
        for line in errors + warnings:
            print(f"cfn-lint: {line}")
        print(f"cfn-lint: {len(errors)} errors, {len(warnings)} warnings")
        if errors:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
