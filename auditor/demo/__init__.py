"""`auditor demo`'s runtime, installed with the [demo] extra (moto): the embedded organization
(organization.py), moto's STS taught to refuse what AWS refuses (moto_trust.py), moto's EC2 told which
opt-in regions each account has enabled (moto_regions.py), and the real
SCP/RCP documents it attaches (policies/*.json). Nothing here imports a test-only package."""
