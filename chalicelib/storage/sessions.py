"""One botocore data loader shared by every PynamoDB connection.

PynamoDB gives each model (and each thread) a `Connection` with a botocore session of its own,
and each session parses DynamoDB's service description anew: about 10 MB of memory and a few
tens of milliseconds for every table a process touches (all 21 tables: over 200 MB, near a
256 MB Lambda, and slow first requests). Sessions that share one loader parse it once; each
further client then costs about 0.4 MB (devtools/bench measures the export's peak memory).
PynamoDB has no setting for its session, so `share_loader` replaces the `get_session` its
connection module calls, once, when the models are imported.
"""

from __future__ import annotations

from functools import cache

import botocore.session
from botocore.loaders import Loader, create_loader


@cache
def _loader() -> Loader:
    return create_loader()


def _session() -> botocore.session.Session:
    session = botocore.session.get_session()
    session.register_component("data_loader", _loader())
    return session


def share_loader() -> None:
    import pynamodb.connection.base

    pynamodb.connection.base.get_session = _session  # type: ignore[assignment]
