"""The managed services API (/api/v1/services/)."""
