"""The generated core of the SDK (see clients/python-sdk/codegen.py). Do not edit."""

SCHEMA_SHA256 = "f3603bb796f20c47"
API_VERSION = '1.0.0'
