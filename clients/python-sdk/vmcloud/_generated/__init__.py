"""The generated core of the SDK (see clients/python-sdk/codegen.py). Do not edit."""

SCHEMA_SHA256 = "4dcc1e8e925fbc51"
API_VERSION = '1.0.0'
