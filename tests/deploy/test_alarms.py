"""The night's safety nets in `make package`'s template: every alarm on our namespace watches a
metric the code emits (names read from the template and from chalicelib/metrics.py), the
alarms the runbook names exist and reach one SNS topic, the WAF counts until told to block, and
each function's reserved concurrency is the one .chalice/config.json sets."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from chalicelib import metrics
from devtools.deploy import template as merge

ROOT = Path(__file__).resolve().parents[2]
METRICS_SOURCE = ROOT / "chalicelib" / "metrics.py"


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def alarm_metrics(alarm: dict[str, Any]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(namespace, metric name, dimensions) of every metric an alarm reads."""
    props = alarm["Properties"]
    if "MetricName" in props:
        return [(props["Namespace"], props["MetricName"], props.get("Dimensions", []))]
    return [(m["MetricStat"]["Metric"]["Namespace"], m["MetricStat"]["Metric"]["MetricName"],
             m["MetricStat"]["Metric"].get("Dimensions", []))
            for m in props["Metrics"] if "MetricStat" in m]


def emitted_names() -> set[str]:
    """Metric names the code really emits: each constant of chalicelib/metrics.py that code
    outside it passes to `metrics.…`, or that a helper of metrics.py called from outside uses."""
    tree = ast.parse(METRICS_SOURCE.read_text())
    constants = {node.targets[0].id: node.value for node in tree.body
                 if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}
    uses: dict[str, set[str]] = {}  # helper function -> constants it names
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            uses[node.name] = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in constants}
    callers = "\n".join(p.read_text() for p in (ROOT / "chalicelib").rglob("*.py") if p != METRICS_SOURCE)
    used = set(re.findall(r"\bmetrics\.([A-Z][A-Z0-9_]+)\b", callers))
    for helper in set(re.findall(r"\bmetrics\.([a-z_]+)\(", callers)):
        used |= uses.get(helper, set())
    names: set[str] = set()
    for constant in used:
        value = getattr(metrics, constant, None)
        if isinstance(value, dict):
            names |= set(value.values())
        elif isinstance(value, str):
            names.add(value)
    return names & metrics.NAMES


def test_every_alarm_of_our_namespace_watches_a_metric_the_code_emits(template: dict[str, Any]) -> None:
    emitted = emitted_names()
    assert {metrics.CONTRIBUTIONS, metrics.STRIPE_THROTTLES} <= emitted  # the scan finds call sites
    ours = []
    for name, alarm in of_type(template, "AWS::CloudWatch::Alarm").items():
        for namespace, metric, dimensions in alarm_metrics(alarm):
            if namespace == metrics.NAMESPACE:
                ours.append(name)
                assert metric in emitted, f"{name} watches {metric}, which no code emits"
                # The dimensions every emission carries (chalicelib.metrics.emit), exactly.
                assert {d["Name"]: d["Value"] for d in dimensions} == {"service": metrics.SERVICE,
                                                                       "stage": "prod"}, name
    assert len(set(ours)) >= 3


def test_the_runbook_alarms_exist_on_one_topic(template: dict[str, Any]) -> None:
    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    topics = of_type(template, "AWS::SNS::Topic")
    assert list(topics) == ["AlarmTopic"]
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
    watched = {m for a in alarms.values() for _, m, _ in alarm_metrics(a)}
    assert {"Reputation.BounceRate", "Reputation.ComplaintRate", "ApproximateNumberOfMessagesVisible",
            metrics.WEBHOOK_NON_2XX, metrics.WEBHOOK_REQUESTS, metrics.OUTBOX_LAG_SECONDS,
            metrics.STRIPE_THROTTLES} <= watched
    thresholds = {m: a["Properties"].get("Threshold")
                  for a in alarms.values() for _, m, _ in alarm_metrics(a)}
    assert thresholds["Reputation.BounceRate"] == 0.04 and thresholds["Reputation.ComplaintRate"] == 0.0008
    assert thresholds[metrics.OUTBOX_LAG_SECONDS] == 300
    webhook = alarms["WebhookErrorRateAlarm"]["Properties"]
    [expression] = [m for m in webhook["Metrics"] if "Expression" in m]
    assert expression["ReturnData"] and webhook["Threshold"] == 1
    assert "100 * errors / requests" in expression["Expression"]
    # Every dead-letter queue has its alarm.
    dlqs = {k for k, v in of_type(template, "AWS::SQS::Queue").items()
            if v["Properties"]["QueueName"].endswith("-dlq")}
    alarmed = {d["Value"]["Fn::GetAtt"][0] for a in alarms.values() for _, _, dims in alarm_metrics(a)
               for d in dims if d["Name"] == "QueueName"}
    assert dlqs and dlqs == alarmed
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    subscription = of_type(template, "AWS::SNS::Subscription")["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"


def test_the_waf_counts_until_told_to_block(template: dict[str, Any]) -> None:
    [acl] = of_type(template, "AWS::WAFv2::WebACL").values()
    props = acl["Properties"]
    assert props["Scope"] == "CLOUDFRONT" and template["Parameters"]["WafMode"]["Default"] == "count"
    rules = {r["Name"]: r for r in props["Rules"]}
    rate = rules["intake-rate-per-ip"]
    assert rate["Action"] == {"Fn::If": ["WafBlocks", {"Block": {}}, {"Count": {}}]}
    statement = rate["Statement"]["RateBasedStatement"]
    assert statement["AggregateKeyType"] == "IP" and statement["Limit"] == {"Ref": "IntakeRateLimit"}
    scope = statement["ScopeDownStatement"]["AndStatement"]["Statements"]
    regex = next(s["RegexMatchStatement"]["RegexString"] for s in scope if "RegexMatchStatement" in s)
    assert re.fullmatch(regex, "/api/pages/demo/donations") and not re.fullmatch(regex, "/api/pages/demo")
    assert any(s.get("ByteMatchStatement", {}).get("SearchString") == "POST" for s in scope)
    common = rules["aws-common-rule-set"]
    assert common["Statement"]["ManagedRuleGroupStatement"]["Name"] == "AWSManagedRulesCommonRuleSet"
    assert common["OverrideAction"] == {"Fn::If": ["WafBlocks", {"None": {}}, {"Count": {}}]}
    assert template["Conditions"]["WafBlocks"] == {"Fn::Equals": [{"Ref": "WafMode"}, "block"]}
    [distribution] = of_type(template, "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    assert config["WebACLId"] == {"Fn::GetAtt": ["EdgeWebAcl", "Arn"]}


def test_each_function_reserves_the_concurrency_the_config_sets(template: dict[str, Any]) -> None:
    configured = merge.stage_config("prod")["lambda_functions"]
    functions = of_type(template, "AWS::Serverless::Function")
    handlers = {f["Properties"]["Handler"].rsplit(".", 1)[-1]: f for f in functions.values()}
    handlers["api_handler"] = handlers.pop("app")  # chalice's name for the REST API's function
    assert set(handlers) == set(configured)
    for name, function in handlers.items():
        reserved = function["Properties"]["ReservedConcurrentExecutions"]
        assert reserved == configured[name]["reserved_concurrency"], name
    jobs = sum(c["reserved_concurrency"] for n, c in configured.items() if n != "api_handler")
    # The webhook and intake have their own share: the jobs together can never take it.
    assert configured["api_handler"]["reserved_concurrency"] > 10 * jobs
    # AWS keeps 100 of an account's default 1,000 unreserved.
    assert jobs + configured["api_handler"]["reserved_concurrency"] <= 900
