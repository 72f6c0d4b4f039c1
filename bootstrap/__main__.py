"""The bootstrap program: read the `bootstrap:*` config, build GithubDelivery, export its outputs.

Pulumi runs this file with bootstrap/ as the program directory, first on sys.path, so `delivery`
imports as a top-level module; the tests run it from the repository root, where it is
`bootstrap.delivery`.
"""

import pulumi

try:
    from delivery import GithubDelivery, load_config
except ModuleNotFoundError as error:
    if error.name != "delivery":
        raise
    from bootstrap.delivery import GithubDelivery, load_config

delivery = GithubDelivery("github", load_config())

for key, value in delivery.outputs.items():
    pulumi.export(key, value)
