"""6. Cost: infrastructure dollars per 1,000 donations at AWS list prices (us-east-1), from what
section 2 counted per donation, against ActBlue's 3.95 % of a $27 gift.
"""

from __future__ import annotations

from typing import Any

from devtools.bench.common import Figure, Section

# AWS public list prices, us-east-1, as we understand them in November 2026 (no free tier).
PRICES = {
    "lambda_gb_second": 0.0000166667,  # x86_64
    "lambda_request": 0.20 / 1e6,
    "api_gateway_rest_request": 3.50 / 1e6,  # first 333 million a month
    # On-demand DynamoDB was halved on 2024-11-01 (from $1.25 and $0.25 per million).
    "dynamodb_wru": 0.625 / 1e6,
    "dynamodb_rru": 0.125 / 1e6,
    "sqs_request": 0.40 / 1e6,  # standard queue
    "ses_email": 0.10 / 1000,
}
OLD_DYNAMODB = {"dynamodb_wru": 1.25 / 1e6, "dynamodb_rru": 0.25 / 1e6}
LAMBDA_GB = 0.5  # lambda_memory_size 512 for prod in .chalice/config.json
GIFT = 27.00
ACTBLUE_RATE = 0.0395
GOAL = 0.30  # dollars per 1,000 donations
API_STEPS = ("page view", "script", "intake", "webhook", "thank-you page")


def per_donation(work: dict[str, Any], prices: dict[str, float]) -> dict[str, float]:
    """Dollars per donation, by service."""
    per, ms = work["per"], work["ms"]
    d = work.get("delivery", {})
    w = d.get("window")
    sent = d.get("sent", 0) if not d.get("error") else 0
    messages = d.get("messages_per_donation", 0.0)
    delivery_wru = w.wru / sent * messages if w and sent else 0.0
    delivery_rru = w.rru / sent * messages if w and sent else 0.0
    other = w.other if w and sent else {}
    share = messages / sent if sent else 0.0  # per donation, of what delivering `sent` took
    emails = sum(v for k, v in other.items() if k.startswith("ses")) * share
    sqs = sum(v for k, v in other.items() if k.startswith("sqs")) * share
    sqs += sum(v for step in API_STEPS for k, v in per[step]["other"].items() if k.startswith("sqs"))
    handler_seconds = sum(ms[s] for s in API_STEPS) / 1000 + d.get("ms_per_message", 0.0) / 1000 * messages
    wru = sum(per[s]["wru"] for s in API_STEPS) + delivery_wru
    rru = sum(per[s]["rru"] for s in API_STEPS) + delivery_rru
    return {
        "Lambda duration": handler_seconds * LAMBDA_GB * prices["lambda_gb_second"],
        "Lambda requests": len(API_STEPS) * prices["lambda_request"],
        "API Gateway (REST)": len(API_STEPS) * prices["api_gateway_rest_request"],
        "DynamoDB writes": wru * prices["dynamodb_wru"],
        "DynamoDB reads": rru * prices["dynamodb_rru"],
        "SQS": sqs * prices["sqs_request"],
        "SES": emails * prices["ses_email"],
        "_wru": wru, "_rru": rru, "_seconds": handler_seconds, "_emails": emails, "_sqs": sqs,
    }


def run(work: dict[str, Any]) -> Section:
    cost = per_donation(work, PRICES)
    total = sum(v for k, v in cost.items() if not k.startswith("_")) * 1000
    old = per_donation(work, {**PRICES, **OLD_DYNAMODB})
    old_total = sum(v for k, v in old.items() if not k.startswith("_")) * 1000
    actblue = GIFT * ACTBLUE_RATE * 1000
    section = Section("6. Cost", [
        Figure("infrastructure per 1,000 donations", f"${total:.3f}", f"< ${GOAL:.2f}", total < GOAL),
        Figure("with DynamoDB's pre-November-2024 on-demand prices", f"${old_total:.3f}"),
        Figure("ActBlue's fee on 1,000 gifts of $27 (3.95 %)", f"${actblue:,.2f} "
               f"({actblue / total:,.0f}x ours)"),
    ])
    rows = ["| service | per 1,000 donations | basis (per donation) |", "|---|---:|---|"]
    basis = {
        "Lambda duration": f"{cost['_seconds'] * 1000:.0f} ms of handler time at {LAMBDA_GB * 1024:.0f} MB",
        "Lambda requests": f"{len(API_STEPS)} invocations ({', '.join(API_STEPS)})",
        "API Gateway (REST)": f"{len(API_STEPS)} requests",
        "DynamoDB writes": f"{cost['_wru']:.1f} WRU",
        "DynamoDB reads": f"{cost['_rru']:.1f} RRU",
        "SQS": f"{cost['_sqs']:.2f} requests",
        "SES": f"{cost['_emails']:.2f} emails",
    }
    for name, text in basis.items():
        rows.append(f"| {name} | ${cost[name] * 1000:.4f} | {text} |")
    rows.append(f"| **total** | **${total:.4f}** | |")
    section.notes.append("\n".join(rows))
    section.notes.append(
        "Prices (us-east-1, list, no free tier): Lambda $0.0000166667 per GB-second and $0.20 per "
        "million requests; API Gateway REST $3.50 per million requests; DynamoDB on-demand "
        "$0.625 per million write request units and $0.125 per million read request units (the "
        "prices since 2024-11-01; the $1.25 and $0.25 before then give the second figure); SQS "
        "$0.40 per million requests; SES $0.10 per 1,000 emails. A donation is the donor's five "
        "requests (donation page, its script, intake, Stripe's webhook, thank-you page) and the "
        "delivery of the outbox messages it creates. Handler time is measured in-process against "
        "moto (section 2), so real DynamoDB latency may differ; cold starts, CloudWatch Logs (a "
        "few hundred bytes per request, $0.50 per GB), the `drain_outbox` schedule's fixed "
        "once-a-minute invocations, Stripe's processing fees and visitors who do not give are not "
        "included. ActBlue: 3.95 % of $27 is $1.0665 per gift, $1,066.50 per 1,000.")
    return section
