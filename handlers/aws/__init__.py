"""The Lambda side: the invocation (events in, results out), event shapes, observability, the local worker."""
