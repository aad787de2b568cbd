"""`make package`: the template declares every table, index, TTL, queue and bucket the code uses,
passes cfn-lint, carries no secret, and the zip is small, boto3-free and importable."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pynamodb.attributes import TTLAttribute

from chalicelib.settings import SECRET_NAMES
from devtools.deploy import package as pkg
from devtools.deploy import template as merge
from devtools.deploy.vendor import PROVIDED_BY_LAMBDA

STAGE = "prod"
PROD_ENV = merge.stage_config(STAGE)["environment_variables"]
# What the python3.11 Lambda runtime puts on sys.path after /var/task.
LAMBDA_RUNTIME_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def models() -> tuple[Any, ...]:
    from chalicelib.storage.models import ALL_MODELS

    return ALL_MODELS


def test_cfn_lint_reports_no_errors(built: pkg.Package) -> None:
    errors, warnings = pkg.lint(built.template)
    for line in warnings:
        print("cfn-lint warning:", line)
    assert errors == []


@pytest.mark.parametrize("model", models(), ids=lambda m: m.__name__)
def test_every_model_is_a_table_with_its_keys_indexes_and_ttl(template: dict[str, Any], model: Any) -> None:
    tables = resources_of(template, "AWS::DynamoDB::Table")
    table = tables[merge.table_logical_id(model)]
    props = table["Properties"]
    assert props["TableName"].startswith("groundswell-prod-")
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"

    schema = model._get_schema()
    keys = {k["AttributeName"]: k["KeyType"] for k in schema["key_schema"]}
    assert {k["AttributeName"]: k["KeyType"] for k in props["KeySchema"]} == keys
    assert props["KeySchema"][0]["KeyType"] == "HASH"
    defined = {d["AttributeName"]: d["AttributeType"] for d in props["AttributeDefinitions"]}
    gsis = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
    assert set(gsis) == {i["index_name"] for i in schema["global_secondary_indexes"]}
    for index in schema["global_secondary_indexes"]:
        declared = gsis[index["index_name"]]
        assert {k["AttributeName"]: k["KeyType"] for k in declared["KeySchema"]} == \
            {k["AttributeName"]: k["KeyType"] for k in index["key_schema"]}
        assert declared["Projection"]["ProjectionType"] == index["projection"]["ProjectionType"]
        keys.update({k["AttributeName"]: k["KeyType"] for k in index["key_schema"]})
    # Exactly the key attributes are defined (CloudFormation rejects any other).
    assert set(defined) == set(keys)

    ttl = [a.attr_name for a in model.get_attributes().values() if isinstance(a, TTLAttribute)]
    if ttl:
        assert props["TimeToLiveSpecification"] == {"AttributeName": ttl[0], "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in props


def test_events_table_expires_markers(template: dict[str, Any]) -> None:
    events = resources_of(template, "AWS::DynamoDB::Table")["ProcessedEventTable"]["Properties"]
    assert events["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_registry_queues_have_dead_letter_queues_and_buckets_are_private(template: dict[str, Any]) -> None:
    from chalicelib.config import settings

    stage = settings().stage
    queues = resources_of(template, "AWS::SQS::Queue")
    for name in merge.registry_names("QUEUES"):
        queue = queues[merge.logical_id(name, "Queue", stage)]["Properties"]
        dlq = queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert queues[dlq]["Properties"]["QueueName"] == merge.dead_letter_name(queue["QueueName"])
        assert queue["VisibilityTimeout"] >= 6 * 30
    # A function reading a queue is created after it (chalice names the queue only by ARN text).
    declared = {q["Properties"]["QueueName"]: qid for qid, q in queues.items()}
    for function, queue in pkg.queue_consumers(template):
        if queue in declared:
            assert declared[queue] in template["Resources"][function].get("DependsOn", []), function
    buckets = resources_of(template, "AWS::S3::Bucket")
    for name in merge.registry_names("BUCKETS"):
        props = buckets[merge.logical_id(name, "Bucket", stage)]["Properties"]
        assert all(props["PublicAccessBlockConfiguration"].values())
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        rule = props["LifecycleConfiguration"]["Rules"][0]
        assert rule["Status"] == "Enabled" and rule["ExpirationInDays"] <= 7


def test_secrets_come_from_ssm_not_the_template(built: pkg.Package, template: dict[str, Any]) -> None:
    assert pkg.secret_env_vars(template) == []
    assert not pkg.SECRET_VALUE.search(built.template.read_text())
    policy = template["Resources"]["SecretsReadPolicy"]["Properties"]
    assert {r["Ref"] for r in policy["Roles"]} == set(resources_of(template, "AWS::IAM::Role"))
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["ssm:GetParameters"]
    arn = statement["Resource"]["Fn::Sub"].replace("${AWS::Partition}", "aws")
    assert arn.endswith(":parameter/groundswell/prod/*")
    assert merge.secret_parameter("prod", "STRIPE_SECRET_KEY") == "/groundswell/prod/STRIPE_SECRET_KEY"


def test_zip_is_small_and_leaves_boto3_to_the_runtime(built: pkg.Package) -> None:
    assert built.zip.stat().st_size < pkg.ZIP_BUDGET_BYTES
    tops = pkg.zip_top_levels(built.zip)
    assert not set(tops) & PROVIDED_BY_LAMBDA
    with zipfile.ZipFile(built.zip) as z:
        names = set(z.namelist())
    assert {"app.py", "chalice/app.py", "chalicelib/api/webhooks.py"} <= names
    assert not any(n.endswith(".pyc") for n in names)


def test_zip_imports_under_a_lambda_like_path(built: pkg.Package, tmp_path: Path) -> None:
    """Only the zip, the stdlib and what the Lambda runtime ships: every handler and the lazily
    imported route modules load, and third-party code comes from the zip."""
    task, runtime = tmp_path / "task", tmp_path / "runtime"
    with zipfile.ZipFile(built.zip) as z:
        z.extractall(task)
    runtime.mkdir()
    import botocore

    venv_site = Path(botocore.__file__).parent.parent
    for name in LAMBDA_RUNTIME_MODULES:
        (runtime / name).symlink_to(venv_site / name)
    code = f"""
import sys
sys.path[:0] = [{str(task)!r}, {str(runtime)!r}]
import app
from chalicelib import deps
from chalicelib.api import jobs
deps.giving_service(); deps.page_service(); deps.stripe_gateway(); deps.dispatcher()
import chalicelib.giving.intake, chalicelib.pages.input, chalicelib.pages.render
import pydantic_core, stripe, jinja2, pynamodb
for module in (pydantic_core, stripe, jinja2, pynamodb):
    assert module.__file__.startswith({str(task)!r}), module.__file__
assert app.app.app_name == "groundswell" and callable(jobs.drain_outbox)
print("ok")
"""
    # The stage's environment plus its secrets, as the cold-start loader would set them from SSM.
    secrets = {name: f"test-{name.lower()}-0123456789abcdef" for name in SECRET_NAMES}
    secrets.update(STRIPE_SECRET_KEY="sk_test_package", STRIPE_PUBLISHABLE_KEY="pk_test_package",
                   PUBLIC_BASE_URL="https://give.example.org",  # a deployment's own settings
                   SES_NOTIFICATION_TOPICS="arn:aws:sns:us-east-1:123456789012:ses-feedback")
    env = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1", **PROD_ENV, **secrets}
    result = subprocess.run([sys.executable, "-I", "-S", "-c", code], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"


def test_prod_policy_reaches_every_table_and_index(template: dict[str, Any]) -> None:
    gaps = [arn for arn in pkg.policy_gaps(template, STAGE) if ":dynamodb:" in arn]
    assert gaps == [], f".chalice/policy-{STAGE}.json grants no DynamoDB action on: {gaps}"


def test_prod_policy_reaches_every_queue_and_bucket(template: dict[str, Any]) -> None:
    gaps = [arn for arn in pkg.policy_gaps(template, STAGE) if ":dynamodb:" not in arn]
    assert gaps == [], f".chalice/policy-{STAGE}.json grants no SQS/S3 action on: {gaps}"


# --- least privilege (issue 12, finding 10) ----------------------------------------------------
def _statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    (policy,) = template["Resources"][role]["Properties"]["Policies"]
    return list(policy["PolicyDocument"]["Statement"])


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_each_function_has_its_own_role_and_writes_only_its_own_logs(template: dict[str, Any]) -> None:
    functions = resources_of(template, "AWS::Serverless::Function")
    roles = {fn: props["Properties"]["Role"]["Fn::GetAtt"][0] for fn, props in functions.items()}
    assert len(set(roles.values())) == len(functions) >= 7
    configured = merge.stage_config(STAGE)["lambda_functions"]
    assert all("iam_policy_file" in fn for fn in configured.values())
    for fn, role in roles.items():
        name = functions[fn]["Properties"]["FunctionName"]
        assert name.startswith("groundswell-prod")
        own = (f"arn:aws:logs:*:*:log-group:/aws/lambda/{name}",
               f"arn:aws:logs:*:*:log-group:/aws/lambda/{name}:*")
        logs = [st for st in _statements(template, role)
                if any(a.startswith("logs:") for a in _listed(st["Action"]))]
        resources = [r for st in logs for r in _listed(st["Resource"])]
        assert resources and all(r in own for r in resources), fn


def _kind(table: str) -> str:
    """`pages` of `groundswell-prod-pages` (this process's models carry the dev stage's names)."""
    return table.split("-", 2)[2]


def _scanned_tables() -> set[str]:
    """Kinds of table whose models the code scans (the CLI's staff-key listing runs with an
    operator's credentials, not a function's)."""
    import re

    tables = {m.__name__: _kind(m.Meta.table_name) for m in models()}
    found = set()
    for path in (pkg.ROOT / "chalicelib").rglob("*.py"):
        for model in re.findall(r"(\w+Model)\.scan\(", path.read_text()):
            if model != "StaffKeyModel":
                found.add(tables[model])
    return found


def test_the_policies_grant_no_call_the_code_never_makes(template: dict[str, Any]) -> None:
    prefix = "arn:aws:dynamodb:*:*:table/"
    for name, policy in pkg.policies(STAGE).items():
        by_action: dict[str, set[str]] = {}
        for st in policy["Statement"]:
            assert st["Effect"] == "Allow" and "*" not in _listed(st["Action"]), name
            for action in _listed(st["Action"]):
                by_action.setdefault(action, set()).update(_listed(st["Resource"]))
        never = {"dynamodb:BatchWriteItem", "dynamodb:DescribeTable", "dynamodb:*"}
        assert not never & set(by_action), name
        scanned = {_kind(r.removeprefix(prefix)) for r in by_action["dynamodb:Scan"]}
        assert scanned == _scanned_tables(), name
        # deletes happen only inside the transactions that release a reservation or withdraw an
        # unpaid intake (aggregates, donations) and on web sessions and used links (sessions)
        deleted = {_kind(r.removeprefix(prefix)) for r in by_action["dynamodb:DeleteItem"]}
        assert deleted == {"aggregates", "donations", "sessions"}, name


def test_only_the_outbox_sends_texts_and_only_to_phone_numbers(template: dict[str, Any]) -> None:
    texts = [(name, st) for name, policy in pkg.policies(STAGE).items() for st in policy["Statement"]
             if any(a.startswith("sns:") for a in _listed(st["Action"]))]
    assert {name for name, _ in texts} == {"policy-prod-drain_shard.json"}
    # a text to a phone number has no resource ARN; nothing else of SNS is granted
    assert [(st["Action"], st["Resource"]) for _, st in texts] == [(["sns:Publish"], "*")]


def test_only_the_outbox_sends_mail_and_only_from_our_address(template: dict[str, Any]) -> None:
    from email.utils import parseaddr

    from chalicelib.settings import Settings

    mail_from = PROD_ENV.get("MAIL_FROM") or Settings.model_fields["mail_from"].default
    mail = [(name, st) for name, policy in pkg.policies(STAGE).items() for st in policy["Statement"]
            if any(a.startswith("ses:") for a in _listed(st["Action"]))]
    assert {name for name, _ in mail} == {"policy-prod-drain_shard.json"}
    senders = [st for _, st in mail if {"ses:SendEmail", "ses:SendRawEmail"} & set(_listed(st["Action"]))]
    assert senders and all(st["Condition"] == {"StringEquals": {"ses:FromAddress": parseaddr(mail_from)[1]}}
                           for st in senders)
    # reading the account's send quota (the drain's rate) is the only other SES call
    assert {a for _, st in mail for a in _listed(st["Action"])} == {
        "ses:SendEmail", "ses:SendRawEmail", "ses:GetAccount"}
