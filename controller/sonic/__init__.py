"""SONIC (NVIDIA GEAR-SONIC) whole-body tracking policy for the 50 Hz loop.

``load_sonic_policy(SonicConfig(...))`` returns a ``SonicPolicy`` that implements
``controller.tracking.TrackingController``.
"""

from controller.sonic.config import SonicConfig, load_sonic_policy
from controller.sonic.policy import SonicPolicy, StepFault

__all__ = ["SonicConfig", "SonicPolicy", "StepFault", "load_sonic_policy"]
