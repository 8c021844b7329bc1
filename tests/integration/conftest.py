"""Integration fixtures: a real mosquitto broker (see ``tests.support.mosquitto``)."""

from tests.support.mosquitto import fresh_mosquitto, mosquitto_broker

__all__ = ["fresh_mosquitto", "mosquitto_broker"]
