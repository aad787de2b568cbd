"""CloudWatch alarms for election night, all on one SNS topic (docs/runbook.md says what each
means and what to do). The app's own metric names come from chalicelib/metrics.py; the SQS and
SES ones are AWS's."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib import metrics
from chalicelib.followups.feedback import COMPLAINT_ALARM_SUFFIX

PARAMETERS: dict[str, Any] = {
    "AlarmEmail": {"Type": "String", "Default": "",
                   "Description": "Subscribed to the alarm topic (confirm the email AWS sends); "
                                  "empty: no subscription, add one to the topic yourself"},
}
CONDITIONS: dict[str, Any] = {"HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}}
WEBHOOK_ERROR_PERCENT = 1
OUTBOX_LAG_LIMIT_SECONDS = 300
SES_BOUNCE_RATE = 0.04
SES_COMPLAINT_RATE = 0.0008


def _ours(stage: str) -> list[dict[str, str]]:
    """The dimensions every metric of chalicelib.metrics carries."""
    return [{"Name": "service", "Value": metrics.SERVICE}, {"Name": "stage", "Value": stage}]


def _alarm(name: str, description: str, **props: Any) -> dict[str, Any]:
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmName": name, "AlarmDescription": description,
        "AlarmActions": [{"Ref": "AlarmTopic"}], "OKActions": [{"Ref": "AlarmTopic"}],
        "TreatMissingData": "notBreaching", **props}}


def alarm_resources(stage: str, dead_letter_queues: Iterable[str]) -> dict[str, Any]:
    """The topic, its optional email subscription, and every alarm, by logical id.
    `dead_letter_queues` are the logical ids of the template's dead-letter queues."""
    prefix = f"groundswell-{stage}"
    resources: dict[str, Any] = {
        "AlarmTopic": {"Type": "AWS::SNS::Topic", "Properties": {
            "TopicName": f"{prefix}-alarms", "DisplayName": "Groundswell alarms"}},
        "AlarmEmailSubscription": {"Type": "AWS::SNS::Subscription", "Condition": "HasAlarmEmail",
                                   "Properties": {"TopicArn": {"Ref": "AlarmTopic"}, "Protocol": "email",
                                                  "Endpoint": {"Ref": "AlarmEmail"}}},
    }
    for dlq in sorted(dead_letter_queues):
        resources[f"{dlq}Alarm"] = _alarm(
            f"{prefix}-{dlq}-not-empty", "A message gave up after its retries and waits in a "
            "dead-letter queue (docs/runbook.md: dead-letter queue)",
            Namespace="AWS/SQS", MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=[{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}],
            Statistic="Maximum", Period=60, EvaluationPeriods=1, Threshold=0,
            ComparisonOperator="GreaterThanThreshold")

    def ours(metric: str, stat: str) -> dict[str, Any]:
        return {"Metric": {"Namespace": metrics.NAMESPACE, "MetricName": metric, "Dimensions": _ours(stage)},
                "Period": 300, "Stat": stat}

    resources["WebhookErrorRateAlarm"] = _alarm(
        f"{prefix}-webhook-errors", f"More than {WEBHOOK_ERROR_PERCENT} % of Stripe's webhook "
        "deliveries answered non-2xx over 5 minutes (docs/runbook.md: webhook errors)",
        Metrics=[
            {"Id": "errors", "MetricStat": ours(metrics.WEBHOOK_NON_2XX, "Sum"), "ReturnData": False},
            {"Id": "requests", "MetricStat": ours(metrics.WEBHOOK_REQUESTS, "Sum"), "ReturnData": False},
            {"Id": "percent", "Expression": "IF(requests > 0, 100 * errors / requests, 0)",
             "Label": "webhook answers not 2xx (%)", "ReturnData": True},
        ],
        EvaluationPeriods=1, Threshold=WEBHOOK_ERROR_PERCENT, ComparisonOperator="GreaterThanThreshold")
    outbox = _alarm(
        f"{prefix}-outbox-lag", "The oldest due outbox message (receipts, invitations, refunds) "
        "has waited over 5 minutes, or the drain has stopped reporting (docs/runbook.md: outbox lag)",
        Namespace=metrics.NAMESPACE, MetricName=metrics.OUTBOX_LAG_SECONDS, Dimensions=_ours(stage),
        Statistic="Maximum", Period=60, EvaluationPeriods=2, DatapointsToAlarm=2,
        Threshold=OUTBOX_LAG_LIMIT_SECONDS, ComparisonOperator="GreaterThanThreshold")
    # The drain reports every minute, 0 when nothing waits: silence means it is not running.
    outbox["Properties"]["TreatMissingData"] = "breaching"
    resources["OutboxLagAlarm"] = outbox
    resources["SesBounceRateAlarm"] = _alarm(
        f"{prefix}-ses-bounce-rate", "SES's account bounce rate is above 4 % (SES reviews the "
        "account at 5 %, pauses sending at 10 %) (docs/runbook.md: SES reputation)",
        Namespace="AWS/SES", MetricName="Reputation.BounceRate", Statistic="Maximum", Period=300,
        EvaluationPeriods=1, Threshold=SES_BOUNCE_RATE, ComparisonOperator="GreaterThanThreshold")
    resources["SesComplaintRateAlarm"] = _alarm(
        f"{prefix}{COMPLAINT_ALARM_SUFFIX}", "SES's account complaint rate is above 0.08 % (SES "
        "reviews at 0.1 %): pause invitations, never receipts (docs/runbook.md: SES reputation)",
        Namespace="AWS/SES", MetricName="Reputation.ComplaintRate", Statistic="Maximum", Period=300,
        EvaluationPeriods=1, Threshold=SES_COMPLAINT_RATE, ComparisonOperator="GreaterThanThreshold")
    resources["StripeThrottlingAlarm"] = _alarm(
        f"{prefix}-stripe-throttling", "Stripe answered 429 (rate limited) in the last minute "
        "(docs/runbook.md: Stripe throttling)",
        Namespace=metrics.NAMESPACE, MetricName=metrics.STRIPE_THROTTLES, Dimensions=_ours(stage),
        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=0,
        ComparisonOperator="GreaterThanThreshold")
    return resources
