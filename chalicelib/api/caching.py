"""What each response lets caches keep: every response of the app carries one of these.

The CloudFront distribution in front (devtools/deploy/edge.py, docs/deploy.md) honours them
(its cache policies have a minimum TTL of 0): only SHARED and ASSET responses are ever cached
there, for the seconds they name. SHARED responses are the same for every visitor of one variant
bucket (the bucket is in the edge's cache key); anything that depends on who is asking is
PERSONAL (their browser may keep it) or NO_STORE (nobody keeps it).
"""

from __future__ import annotations

# A donation page, its data and its thermometer: a few seconds at the edge, then served stale
# while one request refreshes it, so a surge reaches the origin a few times a minute per copy.
SHARED_SECONDS = 10
STALE_SECONDS = 30
SHARED = f"public, max-age={SHARED_SECONDS}, stale-while-revalidate={STALE_SECONDS}"
# The pages' scripts: changed only by a deploy.
ASSET = "public, max-age=300, stale-while-revalidate=3600"
# Chosen from the visitor's own cookie (no edge in front): their browser only, revalidated.
PERSONAL = "private, no-cache"
# A donor's own ladder (`?t=`), token links, the thank-you page, staff data, errors, writes.
NO_STORE = "no-store"
