"""Fixed facts every layer may read: Datadog's AWS account per site and partition (`sites.py`) and the
names of what a run sends into Datadog (`result_names.py`). Plain data, no I/O: config, policy/,
checks/, datadog/ and report/ all import them, so they sit below all of these."""
