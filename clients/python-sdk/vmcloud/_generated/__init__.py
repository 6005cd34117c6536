"""The generated core of the SDK (see clients/python-sdk/codegen.py). Do not edit."""

SCHEMA_SHA256 = "8713d2c10f05cb88"
API_VERSION = '1.0.0'
