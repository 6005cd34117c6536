"""The generated core of the SDK (see clients/python-sdk/codegen.py). Do not edit."""

SCHEMA_SHA256 = "7ec27245e7f2c796"
API_VERSION = '1.0.0'
