"""The control process: the 50 Hz loop in its own process, served over ZeroMQ IPC."""
