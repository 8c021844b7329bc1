"""The fleet interface: MQTT adapter and inbox, the VDA 5050 model/actions/orders, the task
supervisor and the e-stop relay process.
"""
