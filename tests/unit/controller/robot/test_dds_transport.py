"""Start-up checks of the DDS transport that need no peer: NIC, domain, Cyclone version guard.

Real: this machine's network interfaces; the installed cyclonedds version (faked only where a
test needs another one, by patching the version lookup).
"""

from __future__ import annotations

import pytest

from controller.robot import dds_transport
from controller.robot.dds_transport import (
    DdsSetupError,
    check_cyclonedds,
    check_domain,
    check_interface,
)
from controller.robot.unitree_config import UnitreeDdsConfig


def test_a_missing_nic_names_the_setting_to_fix() -> None:
    with pytest.raises(DdsSetupError, match=r"'nonexistent9' not found.*network_interface"):
        check_interface("nonexistent9")
    check_interface("lo")


def test_an_out_of_range_domain_is_refused() -> None:
    with pytest.raises(DdsSetupError, match="domain_id"):
        check_domain(300)
    with pytest.raises(ValueError, match="domain_id"):
        UnitreeDdsConfig(domain_id=-1)


def test_cyclonedds_11_is_refused_off_loopback_and_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dds_transport, "cyclonedds_version", lambda: "11.0.1")
    with pytest.raises(DdsSetupError, match=r"cyclonedds 11\.0\.1.*install cyclonedds==0\.10\.2"):
        check_cyclonedds("eth0")
    assert check_cyclonedds("lo") == "11.0.1"  # loopback interop was tested fine
    monkeypatch.setattr(dds_transport, "cyclonedds_version", lambda: "0.10.2")
    assert check_cyclonedds("eth0") == "0.10.2"


def test_config_rejects_bad_values_with_the_key() -> None:
    with pytest.raises(ValueError, match="command_rate_hz"):
        UnitreeDdsConfig(command_rate_hz=10.0)
    with pytest.raises(ValueError, match="network_interface"):
        UnitreeDdsConfig(network_interface="")
    with pytest.raises(ValueError, match="accepted_mode_machines"):
        UnitreeDdsConfig(accepted_mode_machines=())
