"""The generated core of the SDK (see clients/python-sdk/codegen.py). Do not edit."""

SCHEMA_SHA256 = "ecd474d5bf6bcd05"
API_VERSION = '1.0.0'
