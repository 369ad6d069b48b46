"""IAM policy parsing (every policy document) and evaluation (organization policies). Pure: no I/O.

- `document.parse_policy` (SCPs, RCPs) and `document.parse_role_policy` (trust and identity
  policies) -> PolicyDocument of the one model (`model.py`), or PolicyError naming the place.
- `statement.statement_applies`, `chain.evaluate_scp_chain` / `evaluate_rcp_chain`: three-valued.
- `engine.Evaluator`: every org policy parsed once, decisions cached per policy chain.
- `request_keys`: what Datadog's two requests carry, key by key, with AWS's reasons (`requests` builds them).
- `matrix.evaluate_regions`: the account x region matrix, exclusions and the facts the region findings
  are worded from (checks/regions.py).
- `explain.explain_region`: the decision for one account and region, level by level, as text.

Import the module you need: this package re-exports nothing (a submodule import never runs a sibling).
"""
