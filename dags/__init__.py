# The sample workflows, shipped in the wheel as airflow_provider_gtm.example_dags: that package is a
# symlink to this folder (one set of files), and this file makes it a package for setuptools.
