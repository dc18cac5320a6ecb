"""Building blocks of the sample DAGs (kept out of the DAG files so parsing stays cheap)."""
