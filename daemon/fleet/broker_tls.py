"""TLS towards the MQTT broker: the client context, and a clear account of a refused broker.

Why a module of its own: a wrong or missing CA is the most likely TLS mistake on a robot, and
what paho/aiomqtt report for it is a bare OpenSSL string inside a generic ``MqttError``, logged
as a warning and repeated at every reconnect. ``tls_failure`` turns that into a
``BrokerTlsError`` that names the CA file in use, so the daemon can log one error that says
what to fix. Files are read when a connection is attempted, never at configuration time.
"""

from __future__ import annotations

import ssl

from daemon.fleet.vda5050.config import BrokerConfig, TlsConfig
from daemon.fleet.vda5050.errors import BrokerTlsError

_VERIFY_FAILED = "CERTIFICATE_VERIFY_FAILED"


def build_tls_context(tls: TlsConfig) -> ssl.SSLContext:
    """A client TLS context: the given CA (or the system's), optional client certificate.

    Raises:
        BrokerTlsError: a file is missing, unreadable or not a PEM certificate/key.
    """
    where = f"ca_file {tls.ca_file}" if tls.ca_file is not None else "the system's CA store"
    try:
        context = ssl.create_default_context(
            cafile=str(tls.ca_file) if tls.ca_file is not None else None
        )
    except OSError as exc:  # ssl.SSLError is an OSError too
        raise BrokerTlsError(where, _reason(exc)) from None
    if tls.cert_file is not None and tls.key_file is not None:
        try:
            context.load_cert_chain(str(tls.cert_file), str(tls.key_file))
        except OSError as exc:
            source = f"cert_file {tls.cert_file} / key_file {tls.key_file}"
            raise BrokerTlsError(source, _reason(exc)) from None
    if not tls.is_hostname_checked:
        context.check_hostname = False
    return context


def _reason(exc: OSError) -> str:
    if isinstance(exc, ssl.SSLError):
        return f"not a usable PEM file ({exc.reason or exc})"
    return exc.strerror or type(exc).__name__


def tls_failure(exc: BaseException, broker: BrokerConfig) -> BrokerTlsError | None:
    """A ``BrokerTlsError`` when ``exc`` is the broker's certificate failing verification.

    aiomqtt turns the ``ssl.SSLCertVerificationError`` of the handshake into an ``MqttError``
    carrying only its text, so the text is what is recognised here.
    """
    tls = broker.tls
    text = str(exc)
    if tls is None or _VERIFY_FAILED not in text:
        return None
    reason = text.split("certificate verify failed:", 1)[-1].split("(_ssl", 1)[0].strip()
    trusted = f"the CA in {tls.ca_file}" if tls.ca_file is not None else "the system's CAs"
    return BrokerTlsError(
        f"{broker.host}:{broker.port}",
        f"the broker's certificate is not trusted ({reason}); it must be signed by {trusted}"
        + (" and name this host" if tls.is_hostname_checked else ""),
    )
