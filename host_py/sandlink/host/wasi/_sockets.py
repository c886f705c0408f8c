"""`wasi:sockets`, denied: a component may import it (every Python guest does), but it
gets no network. Creating a socket or looking up a name is `access-denied`; so no socket,
stream of datagrams or of addresses ever exists, and their methods are never reached."""

from __future__ import annotations

from typing import Any, NoReturn

from .._values import Err

DENIED = Err("access-denied")


class Network:
    """`wasi:sockets/network#network`: the guest may hold one; it permits nothing."""


def network_error_code(err: Any) -> None:
    return None  # no error comes from a network here


class _Never(type):
    """A resource whose objects are never made: any method is unreachable."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return _unreachable


def _unreachable(*args: Any) -> NoReturn:
    raise AssertionError("wasi:sockets: no object of this resource is ever handed out")


class TcpSocket(metaclass=_Never):
    pass


class UdpSocket(metaclass=_Never):
    pass


class IncomingDatagramStream(metaclass=_Never):
    pass


class OutgoingDatagramStream(metaclass=_Never):
    pass


class ResolveAddressStream(metaclass=_Never):
    pass


INTERFACES: dict[str, dict[str, Any]] = {
    "wasi:sockets/network": {"network": Network, "network-error-code": network_error_code},
    "wasi:sockets/instance-network": {"instance-network": Network},
    "wasi:sockets/tcp": {"tcp-socket": TcpSocket},
    "wasi:sockets/tcp-create-socket": {"create-tcp-socket": lambda family: DENIED},
    "wasi:sockets/udp": {
        "udp-socket": UdpSocket,
        "incoming-datagram-stream": IncomingDatagramStream,
        "outgoing-datagram-stream": OutgoingDatagramStream,
    },
    "wasi:sockets/udp-create-socket": {"create-udp-socket": lambda family: DENIED},
    "wasi:sockets/ip-name-lookup": {
        "resolve-address-stream": ResolveAddressStream,
        "resolve-addresses": lambda network, name: DENIED,
    },
}
