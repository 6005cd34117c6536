"""The generated core of the SDK (see clients/python-sdk/codegen.py). Do not edit."""

SCHEMA_SHA256 = "14347659cd3bff5f"
API_VERSION = '1.0.0'
