"""The link to the control process: IPC, its command/status types, the heartbeat, the admin
socket and the robot start-up check.
"""
