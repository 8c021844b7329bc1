"""Process plumbing under every other part: systemd notify/watchdog, logging, small asyncio
helpers, progress output, ZeroMQ CURVE keys and the credential-file check.
"""
