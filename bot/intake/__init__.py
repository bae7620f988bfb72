"""Intake: the public webhook endpoint verifies, bounds and durably records each delivery, then answers."""
