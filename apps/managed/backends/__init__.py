"""Service backends (issue 14, "Delivery"): one small interface per family; see ``base``."""
