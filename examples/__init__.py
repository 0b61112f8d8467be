"""Example services and consumers, one per stack: used by the demo, the docs, tests and benchmarks."""
