"""The generated core of the SDK (see clients/python-sdk/codegen.py). Do not edit."""

SCHEMA_SHA256 = "4a786d639dfb1a69"
API_VERSION = '1.0.0'
