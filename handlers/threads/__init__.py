"""How this process's threads share its work: pools kept across invocations, one computing at a time."""
