"""The shared core: written once, used by all four API hooks.

- :mod:`.client`: timeouts, retries with backoff and ``Retry-After``, error parsing (the policy).
- :mod:`.transport`: session, same-origin redirects, reading and decoding bodies (the seam under it).
- :mod:`.ratelimit`: sliding windows per credential, header pacing, key blocks.
- :mod:`.pagination`: the three paging styles as paginator objects, driven by one page loop.
- :mod:`.batching`: chunking and partial-failure results.
- :mod:`.hook`: the base hook (lazy connection, config errors, ``test_connection``).
"""
