"""The bootstrap program: read the `bootstrap:*` config, build GithubDelivery, export its outputs.

Pulumi runs this file from bootstrap/ with the lake's virtualenv, where the project is installed
(`make venv` installs it editable), so `bootstrap.delivery` imports there as in the tests.
"""

import pulumi

from bootstrap.delivery import GithubDelivery, load_config

delivery = GithubDelivery("github", load_config())

for key, value in delivery.outputs.items():
    pulumi.export(key, value)
