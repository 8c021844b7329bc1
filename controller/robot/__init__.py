"""Robot backends: the ``RobotBackend`` Protocol and its implementations (MuJoCo, Unitree DDS).

Importing this package imports no simulator or SDK: backends live in their own modules.
"""

from controller.robot.base import BackendUnavailableError, RobotBackend, RobotCommand, RobotState

__all__ = ["BackendUnavailableError", "RobotBackend", "RobotCommand", "RobotState"]
