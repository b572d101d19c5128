"""Transports: the seam between the stage runner and the wire."""
