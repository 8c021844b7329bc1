"""``exoactor-edge broker provision`` and ``exoactor-edge zmq keygen``: make keys and accounts.

Both write secrets into files with mode 0600 and never print a secret: what they print is where
the files are and what to install where (see /work/notes/auth-readme.md for the whole
procedure). Exit status 0 on success, 1 when the work could not be done (the error says why
and nothing was left half-written).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from daemon.config import DEFAULT_CONFIG_PATH, load_config
from daemon.fleet.broker_provision import DEFAULT_FLEET_USER, ProvisionError, provision
from daemon.system.curve import CurveKeyError, generate_keypair, read_key_pair

EXIT_OK = 0
EXIT_FAILED = 1


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(f"exoactor-edge: {text}\n")


def add_security_commands(sub: Any) -> None:
    """Register ``broker provision`` and ``zmq keygen`` on the top-level subparsers."""
    broker = sub.add_parser("broker", help="MQTT broker accounts")
    broker_sub = broker.add_subparsers(title="broker commands", metavar="SUBCOMMAND")
    prov = broker_sub.add_parser(
        "provision",
        help="create broker users, hashed passwords and an ACL for one or more robots",
        description="Writes OUT/exoactor.passwd (mosquitto_passwd hashes), OUT/exoactor.acl "
        "and the plain passwords as OUT/credentials/SERIAL/mqtt-password (the robot's "
        "LoadCredential=mqtt-password) and OUT/credentials/fleet-mqtt-password (for the fleet "
        "manager). Robot users are named after their serial number. Existing files are never "
        "overwritten.",
    )
    prov.add_argument("--out", type=Path, required=True, help="output folder")
    prov.add_argument(
        "--serial",
        action="append",
        default=[],
        help="a robot's serial number (repeatable; default: fleet.serial_number of the config)",
    )
    prov.add_argument("--fleet-user", default=DEFAULT_FLEET_USER, help="the fleet manager's user")
    prov.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"TOML configuration for the topic layout (default: {DEFAULT_CONFIG_PATH} if "
        "it exists)",
    )
    prov.set_defaults(func=_cmd_provision)

    zmq_parser = sub.add_parser("zmq", help="ZeroMQ CURVE keys")
    zmq_sub = zmq_parser.add_subparsers(title="zmq commands", metavar="SUBCOMMAND")
    keygen = zmq_sub.add_parser(
        "keygen",
        help="create a CURVE key pair (NAME.key public, NAME.key_secret secret, mode 0600)",
        description="Writes DIR/NAME.key (the public certificate: give it to the other side, "
        "or put it in the robot's authorized_keys_dir) and DIR/NAME.key_secret (keep it; for "
        "the robot, install it as the credential zmq-curve-secret). Never overwrites.",
    )
    keygen.add_argument("name", help="key name, e.g. robot-G1-0001 or operator-laptop")
    keygen.add_argument("--dir", type=Path, default=Path.cwd(), help="output folder")
    keygen.set_defaults(func=_cmd_keygen)


def _cmd_provision(args: argparse.Namespace) -> int:
    if args.config is None:
        config = load_config(DEFAULT_CONFIG_PATH, required=False)
    else:
        config = load_config(args.config, required=True)
    try:
        result = provision(args.out, config.fleet, args.serial, fleet_user=args.fleet_user)
    except ProvisionError as exc:
        _err(str(exc))
        return EXIT_FAILED
    _out(f"password file: {result.passwd_file}")
    _out(f"ACL:           {result.acl_file}")
    for serial, path in result.robot_credentials.items():
        _out(f"robot {serial}: user {serial}, password in {path}")
    _out(f"fleet:         user {result.fleet_user}, password in {result.fleet_credential}")
    _out(
        "install: the two broker files as /etc/mosquitto/exoactor.passwd and "
        "/etc/mosquitto/exoactor.acl (mode 0640, group mosquitto); a robot's password as "
        "/etc/exoactor/credentials/mqtt-password (mode 0600, root)"
    )
    return EXIT_OK


def _cmd_keygen(args: argparse.Namespace) -> int:
    try:
        public_file, secret_file = generate_keypair(args.dir, args.name)
        public, _ = read_key_pair(secret_file)
    except CurveKeyError as exc:
        _err(str(exc))
        return EXIT_FAILED
    _out(f"public key:  {public.decode()}  ({public_file})")
    _out(f"secret key:  {secret_file} (mode 0600; keep it private)")
    return EXIT_OK
