"""Reusable test support: a real mosquitto broker fixture, fakes of the daemon's Protocols,
and the official VDA 5050 schemas."""
