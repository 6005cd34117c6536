"""The generated core of the SDK (see clients/python-sdk/codegen.py). Do not edit."""

SCHEMA_SHA256 = "7b4acd34328cf197"
API_VERSION = '1.0.0'
