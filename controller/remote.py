"""Unitree wireless-remote key bits (``LowState.wireless_remote[2:4]`` as a little-endian uint16).

Source: unitree_rl_gym ``deploy/deploy_real/common/remote_controller.py``
(../shared/reference/unitree-g1.md §1.3).
"""

from __future__ import annotations

import enum


class RemoteKey(enum.IntFlag):
    R1 = 1 << 0
    L1 = 1 << 1
    START = 1 << 2
    SELECT = 1 << 3
    R2 = 1 << 4
    L2 = 1 << 5
    F1 = 1 << 6
    F2 = 1 << 7
    A = 1 << 8
    B = 1 << 9
    X = 1 << 10
    Y = 1 << 11
    UP = 1 << 12
    RIGHT = 1 << 13
    DOWN = 1 << 14
    LEFT = 1 << 15
