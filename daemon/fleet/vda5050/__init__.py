"""VDA 5050 version 3 for this robot, sans-I/O: configuration, headers, messages, instant
action parsing and the fleet-facing state model.

Layout: ``config`` (topics, broker, timing), ``header`` (headerId per topic, timestamps),
``action_specs`` (the supported actions and errors), ``envelope`` (header, freshness and
action checks every command shares), ``actions`` (the instantActions parser), ``orders`` (the
order parser: one node at the robot's station), ``tracker`` (action states and their
errors), ``error_book`` (errors that belong to no action, and every error's lifetime),
``robot_view`` (supervisor mode -> errors, safetyState), ``fleet_state`` (the model: state
body, inputs routed), ``action_dispatch`` (instant actions begun), ``motion_control`` (the
live motion: start, stop, pause, resume), ``order_control`` (orderId/orderUpdateId rules, node
actions in sequence), ``robot_model`` (what those share), ``steps`` (what the model asks of
the service), ``executor`` (runs the model's steps against a ``ControlLink``), ``messages``
(builders), ``state_readout`` (reading a received state message). ``fleet_client`` is the one
module here that does I/O: the fleet controller side, used by ``scripts/fleet_sim.py`` and
tests. The MQTT wiring is ``daemon.fleet.fleet_mqtt``.
"""

from daemon.fleet.vda5050.actions import ActionType, ErrorType, parse_instant_actions
from daemon.fleet.vda5050.config import BrokerConfig, FleetConfig, TlsConfig, Topics
from daemon.fleet.vda5050.errors import BrokerCredentialError, FleetConfigError, FleetTimeoutError
from daemon.fleet.vda5050.fleet_state import FleetState
from daemon.fleet.vda5050.robot_view import OperatingMode, RobotExtras
from daemon.fleet.vda5050.steps import Step, StepKind
from daemon.fleet.vda5050.tracker import ActionStatus

__all__ = [
    "ActionStatus",
    "ActionType",
    "BrokerConfig",
    "BrokerCredentialError",
    "ErrorType",
    "FleetConfig",
    "FleetConfigError",
    "FleetState",
    "FleetTimeoutError",
    "OperatingMode",
    "RobotExtras",
    "Step",
    "StepKind",
    "TlsConfig",
    "Topics",
    "parse_instant_actions",
]
