"""The CloudFormation template merged into `chalice package`'s output, generated from the code.

Every DynamoDB table comes from `chalicelib.storage.models.ALL_MODELS` (keys, GSIs and their
projections, TTL from a `TTLAttribute`), every SQS queue and S3 bucket from the registry in
`chalicelib.storage.resources` (`QUEUES`, `BUCKETS`; skipped while it does not exist), so a table
or queue added in code is in the next package without anyone editing a template. Names are the
stage's, from `.chalice/config.json`: run this in a fresh interpreter, as `make package` does:

    python -m devtools.deploy.template --stage prod --out merge.json

Beyond storage: the CloudFront distribution with its cache policies, functions and WAF web ACL
(edge.py), and the alarms with their SNS topic (alarms.py).

Secrets are not in the template. They live in SSM Parameter Store under `/groundswell/{stage}/`
(`secret_parameter`), and the template grants the Lambda role `ssm:GetParameters` on that path.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"

# Chalice makes one role per function (`ApiHandlerRole`, `DrainOutboxRole`, ...) when each uses
# the stage's policy file; `make package` learns their names from a first `chalice package` pass.
DEFAULT_ROLES = ("ApiHandlerRole",)
QUEUE_MAX_RECEIVES = 5  # deliveries before a message moves to the dead-letter queue
DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # SQS maximum: time to look at what failed
BUCKET_OBJECT_DAYS = 7  # exports are fetched within days; nothing stays longer
RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}


def secret_prefix(stage: str) -> str:
    return f"/groundswell/{stage}/"


def secret_parameter(stage: str, name: str) -> str:
    """The SSM parameter holding secret `name` for `stage`, e.g. /groundswell/prod/STRIPE_SECRET_KEY."""
    return secret_prefix(stage) + name


def stage_config(stage: str, config_path: Path = CHALICE_CONFIG) -> dict[str, Any]:
    """The stage's settings from .chalice/config.json, top-level values overridden by the stage's."""
    config = json.loads(config_path.read_text())
    if stage not in config.get("stages", {}):
        raise SystemExit(f"no stage {stage!r} in {config_path}")
    stage_cfg = config["stages"][stage]
    merged = {**{k: v for k, v in config.items() if k != "stages"}, **stage_cfg}
    merged["environment_variables"] = {**config.get("environment_variables", {}),
                                       **stage_cfg.get("environment_variables", {})}
    return merged


def logical_id(name: str, suffix: str, stage: str = "") -> str:
    """`groundswell-prod-exports` → `ExportsQueue`: CloudFormation ids are alphanumeric."""
    for prefix in (f"groundswell-{stage}-", "groundswell-"):
        if stage and name.startswith(prefix):
            name = name[len(prefix):]
            break
    words = re.split(r"[^0-9A-Za-z]+", name.removesuffix(".fifo"))
    return "".join(w[:1].upper() + w[1:] for w in words if w) + suffix


# --- DynamoDB ----------------------------------------------------------------------------------
def _keys(schema: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    order = {"HASH": 0, "RANGE": 1}
    return [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]}
            for k in sorted(schema, key=lambda k: order[k["KeyType"]])]


def _projection(projection: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"ProjectionType": projection["ProjectionType"]}
    if projection.get("NonKeyAttributes"):
        out["NonKeyAttributes"] = list(projection["NonKeyAttributes"])
    return out


def table_resource(model: Any) -> dict[str, Any]:
    """A PynamoDB model as an on-demand, encrypted, point-in-time-recoverable table."""
    from pynamodb.attributes import TTLAttribute

    schema = model._get_schema()
    definitions: dict[str, str] = {}
    for d in schema["attribute_definitions"]:
        definitions[d["AttributeName"]] = d["AttributeType"]
    props: dict[str, Any] = {
        "TableName": model.Meta.table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": _keys(schema["key_schema"]),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
        "DeletionProtectionEnabled": True,
    }
    for kind, prop in (("global_secondary_indexes", "GlobalSecondaryIndexes"),
                       ("local_secondary_indexes", "LocalSecondaryIndexes")):
        indexes = []
        for index in schema.get(kind) or []:
            for d in index.get("attribute_definitions", []):
                definitions[d["AttributeName"]] = d["AttributeType"]
            indexes.append({"IndexName": index["index_name"], "KeySchema": _keys(index["key_schema"]),
                            "Projection": _projection(index["projection"])})
        if indexes:
            props[prop] = sorted(indexes, key=lambda i: i["IndexName"])
    props["AttributeDefinitions"] = [{"AttributeName": n, "AttributeType": t}
                                     for n, t in sorted(definitions.items())]
    ttl = [a.attr_name for a in model.get_attributes().values() if isinstance(a, TTLAttribute)]
    if len(ttl) > 1:
        raise ValueError(f"{model.__name__} has more than one TTLAttribute: {ttl}")
    if ttl:
        props["TimeToLiveSpecification"] = {"AttributeName": ttl[0], "Enabled": True}
    return {"Type": "AWS::DynamoDB::Table", **RETAIN, "Properties": props}


def table_logical_id(model: Any) -> str:
    return model.__name__.removesuffix("Model") + "Table"


# --- SQS and S3 from the app's registry ---------------------------------------------------------
def registry_names(attr: str) -> list[str]:
    """Names listed by `chalicelib.storage.resources.<attr>`: a list, a mapping of names, or a
    function returning either; [] while the registry does not exist."""
    try:
        module = importlib.import_module("chalicelib.storage.resources")
    except ModuleNotFoundError as exc:
        if exc.name in ("chalicelib.storage.resources", "chalicelib.storage"):
            return []
        raise
    value = getattr(module, attr, None)
    if value is None:
        return []
    if callable(value):
        value = value()
    if isinstance(value, Mapping):
        value = list(value.values())
    names = []
    for item in value:
        name = item if isinstance(item, str) else (
            item.get("name") if isinstance(item, Mapping) else getattr(item, "name", None))
        if not isinstance(name, str) or not name:
            raise TypeError(f"resources.{attr}: cannot read a name from {item!r}")
        names.append(name)
    return names


def dead_letter_name(queue: str) -> str:
    if queue.endswith(".fifo"):
        return queue.removesuffix(".fifo") + "-dlq.fifo"
    return queue + "-dlq"


def queue_resources(name: str, stage: str, lambda_timeout: int) -> dict[str, dict[str, Any]]:
    """A queue and its dead-letter queue; visibility is 6x the Lambda timeout (AWS's advice for
    SQS event sources), so a slow handler's message is not redelivered while still in work."""
    qid, dlq_id = logical_id(name, "Queue", stage), logical_id(name, "DeadLetterQueue", stage)
    fifo = {"FifoQueue": True} if name.endswith(".fifo") else {}
    return {
        dlq_id: {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": dead_letter_name(name), "MessageRetentionPeriod": DLQ_RETENTION_SECONDS,
            "SqsManagedSseEnabled": True, **fifo}},
        qid: {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": name, "VisibilityTimeout": 6 * lambda_timeout,
            "SqsManagedSseEnabled": True, **fifo,
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
                              "maxReceiveCount": QUEUE_MAX_RECEIVES}}},
    }


def bucket_resources(name: str, stage: str) -> dict[str, dict[str, Any]]:
    """A private, encrypted bucket whose objects expire, reachable only over TLS."""
    bid = logical_id(name, "Bucket", stage)
    return {
        bid: {"Type": "AWS::S3::Bucket", **RETAIN, "Properties": {
            "BucketName": name,
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                 "BucketKeyEnabled": True}]},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True, "BlockPublicPolicy": True,
                "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LifecycleConfiguration": {"Rules": [{
                "Id": f"expire-after-{BUCKET_OBJECT_DAYS}-days", "Status": "Enabled",
                "ExpirationInDays": BUCKET_OBJECT_DAYS,
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]},
        }},
        bid + "Policy": {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": {"Ref": bid},
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [{"Fn::GetAtt": [bid, "Arn"]},
                             {"Fn::Sub": "${" + bid + ".Arn}/*"}],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}},
    }


# --- secrets ------------------------------------------------------------------------------------
def secrets_policy(stage: str, roles: Iterable[str] = DEFAULT_ROLES) -> dict[str, Any]:
    """Read access to the stage's SSM parameters, and nothing else (SecureStrings under the
    AWS-managed `aws/ssm` key need no KMS grant)."""
    return {"Type": "AWS::IAM::Policy", "Properties": {
        "PolicyName": f"groundswell-{stage}-secrets",
        "Roles": [{"Ref": role} for role in sorted(roles)],
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Sid": "ReadStageSecrets", "Effect": "Allow",
            "Action": ["ssm:GetParameters"],
            "Resource": {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}"
                                    f":parameter{secret_prefix(stage)}*"}}]}}}


# --- the whole merge template -------------------------------------------------------------------
def function_name(stage: str, handler: str) -> str:
    """The Lambda function's name, as `chalice deploy` names it (`groundswell-prod` for the API,
    `groundswell-prod-drain_outbox` for a job): fixed, so that each function's policy file names
    its own log group (`/aws/lambda/<name>`) and nothing else."""
    app_name = json.loads(CHALICE_CONFIG.read_text())["app_name"]
    if handler == "app.app":
        return f"{app_name}-{stage}"
    return f"{app_name}-{stage}-{handler.rsplit('.', 1)[-1]}"


def merge_template(stage: str, roles: Iterable[str] = DEFAULT_ROLES,
                   consumers: Mapping[str, str] | None = None,
                   functions: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Everything the app uses beyond what chalice generates. Import-time settings must already
    be the stage's (see `main`). `consumers` maps a function's logical id to the queue it reads:
    chalice names the queue by ARN text, so without `DependsOn` a first deploy may create the
    event source mapping before the queue. `functions` maps a function's logical id to its
    handler (`function_name` names it)."""
    from chalicelib.config import settings
    from chalicelib.storage.models import ALL_MODELS

    if settings().stage != stage:
        raise RuntimeError(f"settings are for stage {settings().stage!r}, not {stage!r}: "
                           "run `python -m devtools.deploy.template` in a fresh process")
    timeout = int(stage_config(stage).get("lambda_timeout", 60))
    resources: dict[str, Any] = {}

    def add(new: Mapping[str, Any]) -> None:
        for key, value in new.items():
            if key in resources:
                raise ValueError(f"two resources would both be called {key}")
            resources[key] = value

    for model in ALL_MODELS:
        add({table_logical_id(model): table_resource(model)})
    for queue in registry_names("QUEUES"):
        add(queue_resources(queue, stage, timeout))
    for bucket in registry_names("BUCKETS"):
        add(bucket_resources(bucket, stage))
    add({"SecretsReadPolicy": secrets_policy(stage, roles)})
    queues = set(registry_names("QUEUES"))
    overrides: dict[str, dict[str, Any]] = {}
    for function, handler in sorted((functions or {}).items()):
        overrides.setdefault(function, {})["Properties"] = {"FunctionName": function_name(stage, handler)}
    for function, queue in sorted((consumers or {}).items()):
        if queue in queues:
            overrides.setdefault(function, {})["DependsOn"] = [logical_id(queue, "Queue", stage)]
    add(overrides)
    from chalicelib.pages.experiments import BUCKETS
    from devtools.deploy import alarms, edge

    add(edge.edge_resources(stage, BUCKETS))
    add(alarms.alarm_resources(stage, [logical_id(q, "DeadLetterQueue", stage) for q in queues]))
    return {"Parameters": {**edge.PARAMETERS, **alarms.PARAMETERS},
            "Conditions": {**edge.CONDITIONS, **alarms.CONDITIONS},
            "Resources": resources, "Outputs": edge.OUTPUTS}


def apply_stage_environment(stage: str) -> None:
    """Make this process's settings the stage's, as in its Lambda (before chalicelib is imported)."""
    if "chalicelib.config" in sys.modules:
        raise RuntimeError("chalicelib is already imported; its table names would be stale")
    os.environ.update(stage_config(stage)["environment_variables"])
    os.environ["STAGE"] = stage


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--out", type=Path, help="write here instead of stdout")
    parser.add_argument("--role", action="append", help="a Lambda role's logical id (repeat)")
    parser.add_argument("--consumer", action="append", default=[], metavar="FUNCTION=QUEUE",
                        help="a function that reads a queue of the registry (repeat)")
    parser.add_argument("--function", action="append", default=[], metavar="FUNCTION=HANDLER",
                        help="a function's logical id and handler, to name it (repeat)")
    args = parser.parse_args(argv)
    consumers = dict(c.split("=", 1) for c in args.consumer)
    functions = dict(f.split("=", 1) for f in args.function)
    sys.path.insert(0, str(ROOT))
    apply_stage_environment(args.stage)
    template = merge_template(args.stage, args.role or DEFAULT_ROLES, consumers, functions)
    text = json.dumps(template, indent=2, sort_keys=True) + "\n"
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
