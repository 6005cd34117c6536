"""The generated core of the SDK (see clients/python-sdk/codegen.py). Do not edit."""

SCHEMA_SHA256 = "294ff0e71687986c"
API_VERSION = '1.0.0'
