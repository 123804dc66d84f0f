"""The command line, ``python -m handlers ...``: process, worker, reconcile."""
