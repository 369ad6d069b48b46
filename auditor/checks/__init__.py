"""Pure checks: plain data in, findings out (no boto3, no network, no clock, no file I/O).

`catalogue.py` is the one table of checks; `role.role_findings` runs the role checks of one account,
`regions.region_findings` words the region matrix's facts, `datadog_side.datadog_findings` compares
with what Datadog holds. Import the module you need: this package re-exports nothing, so importing a
check never runs another one's module first."""
