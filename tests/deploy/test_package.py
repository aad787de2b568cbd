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
