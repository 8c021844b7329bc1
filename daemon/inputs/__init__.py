"""Motion inputs: the ZeroMQ package upload and SONIC's ZeroMQ stream (wire format, subscriber,
session, relay, composition).
"""
