"""`python -m gateway.cli`: the eval-gateway command."""

from gateway.cli.app import main

main()
