"""The generated core of the SDK (see clients/python-sdk/codegen.py). Do not edit."""

SCHEMA_SHA256 = "18e1928e18fa13d6"
API_VERSION = '1.0.0'
