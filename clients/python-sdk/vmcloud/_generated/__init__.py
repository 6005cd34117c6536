"""The generated core of the SDK (see clients/python-sdk/codegen.py). Do not edit."""

SCHEMA_SHA256 = "7ef65e607f9e6df0"
API_VERSION = '1.0.0'
