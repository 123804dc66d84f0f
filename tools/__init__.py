"""Local tooling: the demo, the moto server launcher and the local stack (not shipped)."""
