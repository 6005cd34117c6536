"""The generated core of the SDK (see clients/python-sdk/codegen.py). Do not edit."""

SCHEMA_SHA256 = "a4ea61fcdcb5bb5c"
API_VERSION = '1.0.0'
