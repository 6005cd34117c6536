"""The generated core of the SDK (see clients/python-sdk/codegen.py). Do not edit."""

SCHEMA_SHA256 = "0b74101d33458391"
API_VERSION = '1.0.0'
