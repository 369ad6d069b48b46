"""Support for the demo, the tests and the benchmark: AWS doubles built on moto."""
