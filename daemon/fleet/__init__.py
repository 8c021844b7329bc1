"""The fleet interface: MQTT adapter and inbox, broker TLS and provisioning, the VDA 5050
model/actions/orders, the task supervisor and the e-stop relay process.
"""
