"""The platform's Django apps. Layer order (high to low) is enforced by import-linter."""
