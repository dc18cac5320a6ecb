"""The Airflow pools the sample DAGs use, with the slots and description to create them with.

A pool bounds how many tasks use one API key at once; the provider's shared rate limiter
(``[gtm] rate_limit_backend``) bounds how fast they call. Create them once per Airflow
installation, e.g. ``airflow pools set gtm_oktopost 1 "..."`` (``make demo`` and ``make
airflow-ui`` do): a task whose pool does not exist is never scheduled.
"""

from __future__ import annotations

#: Every task of the sample DAGs that calls Oktopost runs in this pool.
OKTOPOST_POOL = "gtm_oktopost"

#: name -> (slots, description)
SAMPLE_POOLS: dict[str, tuple[int, str]] = {
    OKTOPOST_POOL: (
        1,
        "Oktopost calls of the gtm sample DAGs: one task at a time on the key, so that tasks waiting "
        "for its rate budget (60/min, 120/5 s) queue in Airflow instead of holding worker slots.",
    ),
}


def pool_commands() -> list[list[str]]:
    """``airflow pools set`` arguments that create (or update) every sample pool."""
    return [["pools", "set", name, str(slots), description] for name, (slots, description) in SAMPLE_POOLS.items()]
