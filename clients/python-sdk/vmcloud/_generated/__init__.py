"""The generated core of the SDK (see clients/python-sdk/codegen.py). Do not edit."""

SCHEMA_SHA256 = "0e728745ec453816"
API_VERSION = '1.0.0'
