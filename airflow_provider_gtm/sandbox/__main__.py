"""``python -m airflow_provider_gtm.sandbox``: run the sandbox until Ctrl-C or SIGTERM."""

from airflow_provider_gtm.sandbox.cli import main

raise SystemExit(main())
