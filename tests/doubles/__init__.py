"""Test doubles: stand-ins for Datadog that the tests serve over HTTP (never shipped in the package)."""
