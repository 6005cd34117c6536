"""The generated core of the SDK (see clients/python-sdk/codegen.py). Do not edit."""

SCHEMA_SHA256 = "068b2eab62b7c900"
API_VERSION = '1.0.0'
