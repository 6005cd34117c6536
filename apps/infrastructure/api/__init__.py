"""Staff API for the fleet, and the public availability endpoint."""
