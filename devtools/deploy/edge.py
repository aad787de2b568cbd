"""The edge in front of API Gateway: a CloudFront distribution, its cache policies and functions,
and the AWS WAF web ACL on it (docs/deploy.md says why each is so).

Cached (for the seconds the origin's `Cache-Control` names, chalicelib/api/caching.py; every
policy has a minimum TTL of 0, so `no-store` and `private` are honoured):
- `/donate/*` and `/api/pages/*` (GET): the cache key is the path, the `X-Gs-Bucket` header the
  viewer-request function sets from the visitor cookie, and the `amount` and `t` query strings
  (`t`, a donor's own link, is in the key so that it never matches a shared copy; the origin
  answers it `no-store`). No cookie is in the key or reaches the origin.
- `/api/pages/*/progress`: the path only (the same for everyone).
- `/assets/*`: the path only.
Never cached, everything forwarded but the Host header: the thank-you page, intake, the beacon,
webhooks, token links, staff routes and anything else (the default behavior).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

FUNCTIONS_DIR = Path(__file__).resolve().parent / "edge"
# AWS's managed policies (their ids are the same in every account).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # Managed-CachingDisabled
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # Managed-AllViewerExceptHostHeader
# Intake also gets CloudFront's viewer headers (CloudFront-Viewer-Address: the donor's IP for the
# app's own velocity limits; API Gateway's sourceIp is CloudFront's).
ALL_VIEWER_AND_CLOUDFRONT = "33f36d7e-f396-46d9-90e0-52428a34d9dc"  # AllViewerAndCloudFrontHeaders-2022-06
ORIGIN_ID = "api"
INTAKE_PATH = r"^/api/pages/[^/]+/donations$"
INTAKE_WINDOW_SECONDS = 300

PARAMETERS: dict[str, Any] = {
    "WafMode": {
        "Type": "String", "AllowedValues": ["count", "block"], "Default": "count",
        "Description": "count: WAF rules only count matches (watch their metrics first); "
                       "block: matching requests are refused at the edge"},
    "IntakeRateLimit": {
        "Type": "Number", "Default": 300, "MinValue": 10,
        "Description": "POST /api/pages/*/donations per client IP per 5 minutes before the WAF "
                       "rate rule matches (many donors can share one mobile carrier's IP)"},
}
CONDITIONS: dict[str, Any] = {"WafBlocks": {"Fn::Equals": [{"Ref": "WafMode"}, "block"]}}


def function_code(name: str, buckets: int) -> str:
    """A CloudFront Function's source, with the number of variant buckets filled in."""
    return (FUNCTIONS_DIR / f"{name}.js").read_text().replace("__BUCKETS__", str(buckets))


def _function(stage: str, name: str, buckets: int, comment: str) -> dict[str, Any]:
    return {"Type": "AWS::CloudFront::Function", "Properties": {
        "Name": f"groundswell-{stage}-{name.replace('_', '-')}", "AutoPublish": True,
        "FunctionCode": function_code(name, buckets),
        "FunctionConfig": {"Comment": comment, "Runtime": "cloudfront-js-2.0"}}}


def _cache_policy(stage: str, name: str, comment: str, max_ttl: int, headers: list[str] | None = None,
                  query: list[str] | None = None) -> dict[str, Any]:
    return {"Type": "AWS::CloudFront::CachePolicy", "Properties": {"CachePolicyConfig": {
        "Name": f"groundswell-{stage}-{name}", "Comment": comment,
        # The origin decides (Cache-Control); without one nothing is kept.
        "MinTTL": 0, "DefaultTTL": 0, "MaxTTL": max_ttl,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": True, "EnableAcceptEncodingBrotli": True,
            "HeadersConfig": ({"HeaderBehavior": "whitelist", "Headers": headers} if headers
                              else {"HeaderBehavior": "none"}),
            "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": ({"QueryStringBehavior": "whitelist", "QueryStrings": query} if query
                                   else {"QueryStringBehavior": "none"}),
        }}}}


def _cached(path: str | None, policy: str, functions: bool = False) -> dict[str, Any]:
    behavior: dict[str, Any] = {
        "TargetOriginId": ORIGIN_ID, "ViewerProtocolPolicy": "redirect-to-https", "Compress": True,
        "AllowedMethods": ["GET", "HEAD"], "CachedMethods": ["GET", "HEAD"],
        "CachePolicyId": {"Ref": policy},
    }
    if functions:
        behavior["FunctionAssociations"] = [
            {"EventType": event, "FunctionARN": {"Fn::GetAtt": [function, "FunctionARN"]}}
            for event, function in (("viewer-request", "ViewerRequestFunction"),
                                    ("viewer-response", "ViewerResponseFunction"))]
    return {"PathPattern": path, **behavior} if path else behavior


def _uncached(path: str | None, origin_request_policy: str = ALL_VIEWER_EXCEPT_HOST) -> dict[str, Any]:
    behavior = {
        "TargetOriginId": ORIGIN_ID, "ViewerProtocolPolicy": "redirect-to-https", "Compress": True,
        "AllowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
        "CachedMethods": ["GET", "HEAD"],
        "CachePolicyId": CACHING_DISABLED, "OriginRequestPolicyId": origin_request_policy,
    }
    return {"PathPattern": path, **behavior} if path else behavior


def distribution(stage: str) -> dict[str, Any]:
    """CloudFront in front of the app's API Gateway stage (chalice's `RestAPI`, stage `api`)."""
    behaviors = [  # first match wins: the narrow paths before the wide ones
        _uncached("/donate/*/thanks"),
        _cached("/donate/*", "PagesCachePolicy", functions=True),
        _cached("/embed/*", "PagesCachePolicy", functions=True),  # the form in another site's frame
        _uncached("/api/pages/*/donations", ALL_VIEWER_AND_CLOUDFRONT),
        _uncached("/api/pages/*/visits"),
        _cached("/api/pages/*/progress", "ProgressCachePolicy"),
        _cached("/api/pages/*", "PagesCachePolicy", functions=True),
        _cached("/assets/*", "AssetsCachePolicy"),
    ]
    return {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {
        "Enabled": True, "Comment": f"groundswell {stage}: donation pages cached per variant bucket",
        "HttpVersion": "http2and3", "IPV6Enabled": True, "PriceClass": "PriceClass_100",
        "WebACLId": {"Fn::GetAtt": ["EdgeWebAcl", "Arn"]},
        "Origins": [{
            "Id": ORIGIN_ID,
            "DomainName": {"Fn::Sub": "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"},
            "OriginPath": "/api",
            "CustomOriginConfig": {"OriginProtocolPolicy": "https-only", "HTTPSPort": 443,
                                   "OriginSSLProtocols": ["TLSv1.2"]},
            # One regional cache in front of the origin: every edge location refreshes a page
            # from it, so the origin sees one refresh per copy, not one per edge location.
            "OriginShield": {"Enabled": True, "OriginShieldRegion": {"Ref": "AWS::Region"}},
        }],
        "DefaultCacheBehavior": _uncached(None),
        "CacheBehaviors": behaviors,
    }}}


def _visibility(name: str) -> dict[str, Any]:
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": name}


def web_acl(stage: str) -> dict[str, Any]:
    """AWS WAF on the distribution: a per-IP rate rule on intake and AWS's common rule set, both
    counting only until the `WafMode` parameter says block. The app's own velocity limits stay
    for what an IP cannot show (email, card fingerprint). Stripe's and SNS's webhooks are left out
    of the common rule set: they are signed (the app verifies them), and Stripe's event bodies
    can exceed the 8 KB the set's body-size rule allows."""
    intake = {"AndStatement": {"Statements": [
        {"ByteMatchStatement": {"FieldToMatch": {"Method": {}}, "PositionalConstraint": "EXACTLY",
                                "SearchString": "POST",
                                "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}},
        {"RegexMatchStatement": {"FieldToMatch": {"UriPath": {}}, "RegexString": INTAKE_PATH,
                                 "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}},
    ]}}
    not_webhooks = {"NotStatement": {"Statement": {"ByteMatchStatement": {
        "FieldToMatch": {"UriPath": {}}, "PositionalConstraint": "STARTS_WITH", "SearchString": "/webhooks/",
        "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}}}
    return {"Type": "AWS::WAFv2::WebACL", "Properties": {
        "Name": f"groundswell-{stage}-edge", "Scope": "CLOUDFRONT", "DefaultAction": {"Allow": {}},
        "Description": "Intake rate per IP and the AWS common rule set - count until WafMode=block",
        "VisibilityConfig": _visibility(f"groundswell-{stage}-edge"),
        "Rules": [
            {"Name": "intake-rate-per-ip", "Priority": 0,
             "Action": {"Fn::If": ["WafBlocks", {"Block": {}}, {"Count": {}}]},
             "Statement": {"RateBasedStatement": {
                 "Limit": {"Ref": "IntakeRateLimit"}, "EvaluationWindowSec": INTAKE_WINDOW_SECONDS,
                 "AggregateKeyType": "IP", "ScopeDownStatement": intake}},
             "VisibilityConfig": _visibility(f"groundswell-{stage}-intake-rate")},
            {"Name": "aws-common-rule-set", "Priority": 1,
             "OverrideAction": {"Fn::If": ["WafBlocks", {"None": {}}, {"Count": {}}]},
             "Statement": {"ManagedRuleGroupStatement": {
                 "VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet",
                 "ScopeDownStatement": not_webhooks}},
             "VisibilityConfig": _visibility(f"groundswell-{stage}-common")},
        ],
    }}


def edge_resources(stage: str, buckets: int) -> dict[str, Any]:
    """Every resource of the edge, by logical id."""
    return {
        "ViewerRequestFunction": _function(stage, "viewer_request", buckets,
                                           "Variant bucket from the gs_vid cookie, into the cache key"),
        "ViewerResponseFunction": _function(stage, "viewer_response", buckets,
                                            "gs_vid for new visitors; shared copies private to browsers"),
        "PagesCachePolicy": _cache_policy(
            stage, "pages", "Donation pages and their data: per variant bucket, amount, token and language",
            max_ttl=60, headers=["x-gs-bucket"], query=["amount", "t", "lang"]),
        "ProgressCachePolicy": _cache_policy(stage, "progress", "A page's thermometer: one copy", max_ttl=60),
        "AssetsCachePolicy": _cache_policy(stage, "assets", "Page scripts", max_ttl=86_400),
        "EdgeWebAcl": web_acl(stage),
        "EdgeDistribution": distribution(stage),
    }


OUTPUTS = {"EdgeURL": {"Description": "The distribution: donation pages, intake, webhooks",
                       "Value": {"Fn::Sub": "https://${EdgeDistribution.DomainName}/"}}}
