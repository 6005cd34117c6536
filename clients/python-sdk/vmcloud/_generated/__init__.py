"""The generated core of the SDK (see clients/python-sdk/codegen.py). Do not edit."""

SCHEMA_SHA256 = "4e84474eba56fd29"
API_VERSION = '1.0.0'
