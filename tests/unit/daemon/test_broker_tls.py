"""The broker TLS context and the account of a refused broker certificate.

Real: OpenSSL through Python's ``ssl`` loading PEM files made here with ``cryptography``
(``tests.support.tls_certs``). No network: the handshake itself is covered in
``tests/integration/test_fleet_tls.py``.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from daemon.fleet.broker_tls import build_tls_context, tls_failure
from daemon.fleet.vda5050.config import BrokerConfig, TlsConfig
from daemon.fleet.vda5050.errors import BrokerTlsError
from tests.support.tls_certs import make_pki

VERIFY_FAILED = (
    "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate "
    "in certificate chain (_ssl.c:1006)"
)


def test_a_context_from_the_test_ca_verifies_the_server_and_carries_the_client_cert(
    tmp_path: Path,
) -> None:
    pki = make_pki(tmp_path)
    context = build_tls_context(
        TlsConfig(ca_file=pki.ca_file, cert_file=pki.client_cert, key_file=pki.client_key)
    )
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    assert len(context.get_ca_certs()) == 1


def test_a_missing_ca_file_is_a_typed_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.pem"
    with pytest.raises(BrokerTlsError) as caught:
        build_tls_context(TlsConfig(ca_file=missing))
    assert caught.value.source == f"ca_file {missing}"
    assert "No such file" in caught.value.detail


def test_a_ca_file_that_is_not_pem_is_a_typed_error(tmp_path: Path) -> None:
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(BrokerTlsError, match="not a usable PEM file"):
        build_tls_context(TlsConfig(ca_file=garbage))


def test_a_client_key_that_does_not_match_its_certificate_is_refused(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "a")
    other = make_pki(tmp_path / "b")
    with pytest.raises(BrokerTlsError) as caught:
        build_tls_context(
            TlsConfig(ca_file=pki.ca_file, cert_file=pki.client_cert, key_file=other.client_key)
        )
    assert str(pki.client_cert) in caught.value.source


def test_a_verification_failure_names_the_ca_that_was_used(tmp_path: Path) -> None:
    broker = BrokerConfig(host="fleet.example", port=8883, tls=TlsConfig(ca_file=tmp_path / "ca"))
    error = tls_failure(RuntimeError(VERIFY_FAILED), broker)
    assert isinstance(error, BrokerTlsError)
    assert error.source == "fleet.example:8883"
    assert "self-signed certificate in certificate chain" in error.detail
    assert str(tmp_path / "ca") in error.detail


def test_other_failures_and_plain_tcp_brokers_are_not_tls_failures() -> None:
    assert tls_failure(RuntimeError(VERIFY_FAILED), BrokerConfig()) is None
    tls_broker = BrokerConfig(tls=TlsConfig())
    assert tls_failure(RuntimeError("[Errno 111] Connection refused"), tls_broker) is None
