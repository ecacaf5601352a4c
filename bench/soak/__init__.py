"""``make soak``: a sale that runs for a while under a steady crowd while faults are injected at
random (seeded), with the invariants checked every minute and at the end (docs/soak.md)."""
