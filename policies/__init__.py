"""The lake's guardrails as a Pulumi policy pack (CrossGuard): `pulumi preview --policy-pack
policies --policy-pack-config policies/<stack>.json`, or `make policy` where there is no CLI."""
