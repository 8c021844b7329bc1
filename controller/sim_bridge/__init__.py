"""The simulated G1 behind real DDS (``exoactor-edge sim-bridge``): see ``bridge``."""

from __future__ import annotations

import logging
import signal

from controller.robot.model_source import ModelSource
from controller.sim_bridge.config import SimBridgeConfig, SwitcherBehaviour

log = logging.getLogger(__name__)

__all__ = ["SimBridgeConfig", "SwitcherBehaviour", "run_bridge"]


def run_bridge(source: ModelSource, config: SimBridgeConfig) -> None:
    """Run the bridge until SIGTERM or SIGINT (the DDS entities are deleted on the way out)."""
    from controller.sim_bridge.bridge import SimBridge
    from controller.sim_bridge.control import BridgeControl

    bridge = SimBridge(source, config)
    control = (
        BridgeControl(bridge, config.control_endpoint)
        if config.control_endpoint is not None
        else None
    )

    def on_signal(signum: int, frame: object) -> None:
        bridge.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.warning(
        "sim-bridge: %s on domain %d via %s (mode_machine %d, gantry %s)",
        source.describe(), config.domain_id, config.network_interface, config.mode_machine,
        config.sim.use_gantry,
    )  # fmt: skip
    try:
        bridge.run()
    finally:
        if control is not None:
            control.close()
        bridge.close()
