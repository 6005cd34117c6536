"""The generated core of the SDK (see clients/python-sdk/codegen.py). Do not edit."""

SCHEMA_SHA256 = "71bad06a4a88ebd5"
API_VERSION = '1.0.0'
