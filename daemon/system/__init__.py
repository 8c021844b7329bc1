"""Process plumbing under every other part: systemd notify/watchdog, logging, small asyncio
helpers, progress output, CURVE keys, broker TLS and credentials.
"""
