"""`python -m gateway.server [FILE]`: write the service's OpenAPI document (docs/openapi.json)."""

import sys

from gateway.server.openapi import main

main(sys.argv[1:])
