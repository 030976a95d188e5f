"""IKEv2 IKE_SA_INIT messages on the wire (RFC 7296 §3), only as far as a reachability probe
needs: :func:`encode_sa_init` builds a request like a phone's, :func:`parse_message` reads a
reply.

Layout: a 28-byte header (SPIi 8, SPIr 8, next payload 1, version 1, exchange type 1, flags 1,
message ID 4, length 4), then a chain of payloads, each with a 4-byte generic header (next
payload 1, critical bit + reserved 1, length 2). On UDP 4500 (NAT-T, RFC 3948 §2.2) every IKE
message starts with the 4-byte non-ESP marker (zeros).

The request offers what Android's IWLAN stack offers an ePDG: AES-CBC and AES-CTR with
128/256-bit keys (one proposal each), HMAC-SHA2-256/384/512 and HMAC-SHA1-96 integrity,
PRF HMAC-SHA2-256/384/512 and HMAC-SHA1, and the MODP groups 14, 5 and 2 (the KE's group
first). The KE data is random bytes of the group's size below the prime (a probe never
computes a shared secret: it never goes past IKE_SA_INIT).

Every read checks the length first; anything malformed raises :class:`IkeError` with the
offset and what was expected.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import secrets
import struct
from dataclasses import dataclass

IKE_PORT = 500
NATT_PORT = 4500
NON_ESP_MARKER = b"\x00\x00\x00\x00"
IKE_SA_INIT = 34
VERSION_2 = 0x20
FLAG_INITIATOR = 0x08
FLAG_RESPONSE = 0x20
HEADER_SIZE = 28

# Payload types (RFC 7296 §3.2).
PAYLOAD_NONE, PAYLOAD_SA, PAYLOAD_KE, PAYLOAD_NONCE, PAYLOAD_NOTIFY, PAYLOAD_VENDOR = (
    0, 33, 34, 40, 41, 43)
# Transform types and IDs (IANA IKEv2 parameters).
ENCR, PRF, INTEG, DH = 1, 2, 3, 4
ENCR_AES_CBC, ENCR_AES_CTR = 12, 13
PRF_HMAC_SHA1, PRF_HMAC_SHA2_256, PRF_HMAC_SHA2_384, PRF_HMAC_SHA2_512 = 2, 5, 6, 7
INTEG_HMAC_SHA1_96, INTEG_SHA2_256_128, INTEG_SHA2_384_192, INTEG_SHA2_512_256 = 2, 12, 13, 14
ATTR_KEY_LENGTH = 14
# Notify message types (error types are below 16384).
NO_PROPOSAL_CHOSEN = 14
INVALID_KE_PAYLOAD = 17
NAT_DETECTION_SOURCE_IP = 16388
NAT_DETECTION_DESTINATION_IP = 16389
COOKIE = 16390
REDIRECT_SUPPORTED = 16406
REDIRECT = 16407
ERROR_NOTIFY_LIMIT = 16384

#: Nonce Data sizes (RFC 7296 §3.9: "between 16 and 256 octets, inclusive").
MIN_NONCE, MAX_NONCE = 16, 256
#: Public value sizes (bytes) of the MODP groups a probe offers (RFC 3526, RFC 2409).
MODP_SIZES = {2: 128, 5: 192, 14: 256}
#: The groups offered, in Android's order of preference (the KE's group is put first).
DEFAULT_GROUPS = (14, 5, 2)

NOTIFY_NAMES = {
    1: "UNSUPPORTED_CRITICAL_PAYLOAD", 4: "INVALID_IKE_SPI", 5: "INVALID_MAJOR_VERSION",
    7: "INVALID_SYNTAX", 9: "INVALID_MESSAGE_ID", 11: "INVALID_SPI", 14: "NO_PROPOSAL_CHOSEN",
    17: "INVALID_KE_PAYLOAD", 24: "AUTHENTICATION_FAILED", 34: "SINGLE_PAIR_REQUIRED",
    35: "NO_ADDITIONAL_SAS", 36: "INTERNAL_ADDRESS_FAILURE", 37: "FAILED_CP_REQUIRED",
    38: "TS_UNACCEPTABLE", 39: "INVALID_SELECTORS", 43: "TEMPORARY_FAILURE",
    44: "CHILD_SA_NOT_FOUND",
    16388: "NAT_DETECTION_SOURCE_IP", 16389: "NAT_DETECTION_DESTINATION_IP", 16390: "COOKIE",
    16404: "MULTIPLE_AUTH_SUPPORTED", 16406: "REDIRECT_SUPPORTED", 16407: "REDIRECT",
    16418: "CHILDLESS_IKEV2_SUPPORTED", 16430: "IKEV2_FRAGMENTATION_SUPPORTED",
    16431: "SIGNATURE_HASH_ALGORITHMS",
}
_TRANSFORM_NAMES = {
    (ENCR, ENCR_AES_CBC): "aes-cbc", (ENCR, ENCR_AES_CTR): "aes-ctr",
    (PRF, PRF_HMAC_SHA1): "prf-hmac-sha1", (PRF, PRF_HMAC_SHA2_256): "prf-hmac-sha2-256",
    (PRF, PRF_HMAC_SHA2_384): "prf-hmac-sha2-384", (PRF, PRF_HMAC_SHA2_512): "prf-hmac-sha2-512",
    (INTEG, INTEG_HMAC_SHA1_96): "hmac-sha1-96", (INTEG, INTEG_SHA2_256_128): "hmac-sha2-256-128",
    (INTEG, INTEG_SHA2_384_192): "hmac-sha2-384-192",
    (INTEG, INTEG_SHA2_512_256): "hmac-sha2-512-256",
}
_HEADER = struct.Struct("!8s8sBBBBII")
_GENERIC = struct.Struct("!BBH")


class IkeError(ValueError):
    """A malformed IKE message: ``offset`` where reading failed and what was ``expected``."""

    def __init__(self, offset: int, expected: str) -> None:
        super().__init__(f"malformed IKE message at byte {offset}: expected {expected}")
        self.offset = offset
        self.expected = expected


@dataclass(frozen=True)
class Transform:
    """One transform: its type (ENCR, PRF, INTEG, DH), ID and key length (bits, ENCR only)."""

    type: int
    id: int
    key_length: int | None = None

    def __str__(self) -> str:
        if self.type == DH:
            return f"modp{self.id}" if self.id in MODP_SIZES else f"dh{self.id}"
        name = _TRANSFORM_NAMES.get((self.type, self.id), f"type{self.type}-id{self.id}")
        return f"{name}-{self.key_length}" if self.key_length else name


@dataclass(frozen=True)
class Proposal:
    """One SA proposal: number, protocol (1 = IKE) and transforms in order."""

    number: int
    protocol: int
    transforms: tuple[Transform, ...]

    def __str__(self) -> str:
        return "/".join(str(t) for t in self.transforms)


@dataclass(frozen=True)
class Notify:
    """A Notify payload: message type and its data (COOKIE value, REDIRECT gateway, …)."""

    type: int
    data: bytes

    @property
    def name(self) -> str:
        return NOTIFY_NAMES.get(self.type, str(self.type))

    @property
    def is_error(self) -> bool:
        return self.type < ERROR_NOTIFY_LIMIT


@dataclass(frozen=True)
class IkeMessage:
    """The parts of an IKE message a probe reads."""

    spi_i: bytes
    spi_r: bytes
    exchange: int
    flags: int
    message_id: int
    proposals: tuple[Proposal, ...]
    ke_group: int | None
    nonce: bytes | None
    notifies: tuple[Notify, ...]
    vendor_ids: tuple[bytes, ...]
    payload_types: tuple[int, ...]

    @property
    def is_response(self) -> bool:
        return bool(self.flags & FLAG_RESPONSE)

    def notify(self, notify_type: int) -> Notify | None:
        """The first notify of this type, or None."""
        return next((n for n in self.notifies if n.type == notify_type), None)


@dataclass(frozen=True)
class Redirect:
    """A REDIRECT notify's new gateway (RFC 5685 §10: address or name, as text) and the Nonce
    Data that followed it (``b""`` when none did)."""

    gateway: str
    nonce: bytes


@functools.lru_cache(maxsize=16)
def android_proposals(groups: tuple[int, ...] = DEFAULT_GROUPS) -> tuple[Proposal, ...]:
    """Android IWLAN-like proposals: AES-CBC then AES-CTR, each 128/256, SHA2/SHA1 integrity,
    SHA2/SHA1 PRF, ``groups`` in order (immutable: built once per group order)."""
    integ = tuple(Transform(INTEG, i) for i in (INTEG_SHA2_256_128, INTEG_SHA2_384_192,
                                                INTEG_SHA2_512_256, INTEG_HMAC_SHA1_96))
    prf = tuple(Transform(PRF, p) for p in (PRF_HMAC_SHA2_256, PRF_HMAC_SHA2_384,
                                            PRF_HMAC_SHA2_512, PRF_HMAC_SHA1))
    dh = tuple(Transform(DH, g) for g in groups)
    return tuple(
        Proposal(number, 1, (Transform(ENCR, cipher, 128), Transform(ENCR, cipher, 256))
                 + integ + prf + dh)
        for number, cipher in ((1, ENCR_AES_CBC), (2, ENCR_AES_CTR))
    )


def groups_with_first(group: int, groups: tuple[int, ...] = DEFAULT_GROUPS) -> tuple[int, ...]:
    """``groups`` with ``group`` moved (or added) to the front."""
    return (group,) + tuple(g for g in groups if g != group)


def random_ke(group: int) -> bytes:
    """A public value of the right size for MODP ``group``, below the prime (whose top 64 bits
    are all ones): random bytes with a first byte from 0x01 to 0xFE. Raises ValueError for a
    group this probe does not offer."""
    size = MODP_SIZES.get(group)
    if size is None:
        raise ValueError(f"DH group {group} is not a MODP group this probe offers")
    return bytes([1 + secrets.randbelow(254)]) + secrets.token_bytes(size - 1)


def nat_detection_hash(spi_i: bytes, spi_r: bytes, address: str, port: int) -> bytes:
    """SHA-1(SPIi | SPIr | IP | port) of RFC 7296 §2.23."""
    packed = ipaddress.ip_address(address).packed
    return hashlib.sha1(spi_i + spi_r + packed + port.to_bytes(2, "big")).digest()


def _payload(next_type: int, body: bytes) -> bytes:
    return _GENERIC.pack(next_type, 0, 4 + len(body)) + body


def _encode_transform(transform: Transform, last: bool) -> bytes:
    attrs = b""
    if transform.key_length is not None:
        attrs = struct.pack("!HH", 0x8000 | ATTR_KEY_LENGTH, transform.key_length)
    return struct.pack("!BBHBBH", 0 if last else 3, 0, 8 + len(attrs), transform.type, 0,
                       transform.id) + attrs


def _encode_proposal(proposal: Proposal, last: bool) -> bytes:
    body = b"".join(_encode_transform(t, i == len(proposal.transforms) - 1)
                    for i, t in enumerate(proposal.transforms))
    return struct.pack("!BBHBBBB", 0 if last else 2, 0, 8 + len(body), proposal.number,
                       proposal.protocol, 0, len(proposal.transforms)) + body


@functools.lru_cache(maxsize=16)
def _sa_body(proposals: tuple[Proposal, ...]) -> bytes:
    """The SA payload's body (the same few proposal sets for every probe: encoded once)."""
    return b"".join(_encode_proposal(p, i == len(proposals) - 1)
                    for i, p in enumerate(proposals))


def _notify_body(notify_type: int, data: bytes) -> bytes:
    return struct.pack("!BBH", 0, 0, notify_type) + data


def encode_sa_init(
    *,
    spi_i: bytes,
    nonce: bytes,
    ke_group: int,
    ke_data: bytes,
    proposals: tuple[Proposal, ...],
    source: tuple[str, int],
    destination: tuple[str, int],
    cookie: bytes | None = None,
    natt: bool = False,
) -> bytes:
    """An IKE_SA_INIT request: [N(COOKIE)], SA, KE, Ni, N(NAT_DETECTION_SOURCE_IP),
    N(NAT_DETECTION_DESTINATION_IP), N(REDIRECT_SUPPORTED); with ``natt`` the non-ESP marker
    comes first (for UDP 4500). ``source``/``destination`` are (address, port) for the NAT
    detection hashes. Raises ValueError for a SPI that is not 8 bytes."""
    if len(spi_i) != 8:
        raise ValueError("SPIi must be 8 bytes")
    spi_r = bytes(8)
    sa_body = _sa_body(proposals)
    bodies: list[tuple[int, bytes]] = []
    if cookie is not None:
        bodies.append((PAYLOAD_NOTIFY, _notify_body(COOKIE, cookie)))
    bodies += [
        (PAYLOAD_SA, sa_body),
        (PAYLOAD_KE, struct.pack("!HH", ke_group, 0) + ke_data),
        (PAYLOAD_NONCE, nonce),
        (PAYLOAD_NOTIFY, _notify_body(NAT_DETECTION_SOURCE_IP,
                                      nat_detection_hash(spi_i, spi_r, *source))),
        (PAYLOAD_NOTIFY, _notify_body(NAT_DETECTION_DESTINATION_IP,
                                      nat_detection_hash(spi_i, spi_r, *destination))),
        (PAYLOAD_NOTIFY, _notify_body(REDIRECT_SUPPORTED, b"")),
    ]
    chain = b"".join(
        _payload(bodies[i + 1][0] if i + 1 < len(bodies) else PAYLOAD_NONE, body)
        for i, (_, body) in enumerate(bodies)
    )
    header = _HEADER.pack(spi_i, spi_r, bodies[0][0], VERSION_2, IKE_SA_INIT, FLAG_INITIATOR,
                          0, HEADER_SIZE + len(chain))
    return (NON_ESP_MARKER if natt else b"") + header + chain


def parse_message(data: bytes, *, natt: bool = False) -> IkeMessage:
    """Read an IKE message (with ``natt``, after the non-ESP marker). Raises IkeError."""
    if natt:
        if data[:4] != NON_ESP_MARKER:
            raise IkeError(0, "the non-ESP marker (4 zero bytes)")
        data = data[4:]
    if len(data) < HEADER_SIZE:
        raise IkeError(0, f"a {HEADER_SIZE}-byte header")
    spi_i, spi_r, next_type, version, exchange, flags, message_id, length = _HEADER.unpack_from(
        data)
    if version >> 4 != 2:
        raise IkeError(17, f"major version 2, not {version >> 4}")
    if length < HEADER_SIZE or length > len(data):
        raise IkeError(24, f"a length from {HEADER_SIZE} to {len(data)}, not {length}")
    proposals: tuple[Proposal, ...] = ()
    ke_group: int | None = None
    nonce: bytes | None = None
    notifies: list[Notify] = []
    vendors: list[bytes] = []
    types: list[int] = []
    offset = HEADER_SIZE
    while next_type != PAYLOAD_NONE:
        if offset + 4 > length:
            raise IkeError(offset, "a payload header")
        this_type = next_type
        next_type, _, plen = _GENERIC.unpack_from(data, offset)
        if plen < 4 or offset + plen > length:
            raise IkeError(offset + 2, f"a payload length from 4 to {length - offset}")
        body = data[offset + 4 : offset + plen]
        types.append(this_type)
        if this_type == PAYLOAD_SA:
            proposals = _parse_sa(body, offset + 4)
        elif this_type == PAYLOAD_KE:
            if len(body) < 4:
                raise IkeError(offset + 4, "a KE payload of at least 4 bytes")
            ke_group = int.from_bytes(body[:2], "big")
        elif this_type == PAYLOAD_NONCE:
            nonce = body
        elif this_type == PAYLOAD_NOTIFY:
            notifies.append(_parse_notify(body, offset + 4))
        elif this_type == PAYLOAD_VENDOR:
            vendors.append(body)
        offset += plen
    if offset != length:
        raise IkeError(offset, f"the end of the message at byte {length}")
    return IkeMessage(spi_i, spi_r, exchange, flags, message_id, proposals, ke_group, nonce,
                      tuple(notifies), tuple(vendors), tuple(types))


def _parse_notify(body: bytes, base: int) -> Notify:
    if len(body) < 4:
        raise IkeError(base, "a notify of at least 4 bytes")
    spi_size = body[1]
    if 4 + spi_size > len(body):
        raise IkeError(base + 1, f"an SPI size of at most {len(body) - 4}")
    return Notify(int.from_bytes(body[2:4], "big"), body[4 + spi_size :])


def _parse_sa(body: bytes, base: int) -> tuple[Proposal, ...]:
    proposals: list[Proposal] = []
    offset = 0
    more = True
    while more:
        if offset + 8 > len(body):
            raise IkeError(base + offset, "a proposal header")
        last, _, plen, number, protocol, spi_size, count = struct.unpack_from(
            "!BBHBBBB", body, offset)
        if last not in (0, 2):
            raise IkeError(base + offset, f"last-substructure 0 or 2, not {last}")
        if plen < 8 + spi_size or offset + plen > len(body):
            raise IkeError(base + offset + 2, "a proposal length within the SA payload")
        transforms = _parse_transforms(body[offset + 8 + spi_size : offset + plen], count,
                                       base + offset + 8 + spi_size)
        proposals.append(Proposal(number, protocol, transforms))
        offset += plen
        more = last == 2
    if offset != len(body):
        raise IkeError(base + offset, "the end of the SA payload after the last proposal")
    return tuple(proposals)


def _parse_transforms(body: bytes, count: int, base: int) -> tuple[Transform, ...]:
    transforms: list[Transform] = []
    offset = 0
    for index in range(count):
        if offset + 8 > len(body):
            raise IkeError(base + offset, f"transform {index + 1} of {count}")
        last, _, tlen, ttype, _, tid = struct.unpack_from("!BBHBBH", body, offset)
        if last != (0 if index == count - 1 else 3):
            raise IkeError(base + offset, "a last-substructure mark matching the count")
        if tlen < 8 or offset + tlen > len(body):
            raise IkeError(base + offset + 2, "a transform length within the proposal")
        key_length = _key_length(body[offset + 8 : offset + tlen], base + offset + 8)
        transforms.append(Transform(ttype, tid, key_length))
        offset += tlen
    if offset != len(body):
        raise IkeError(base + offset, "the end of the proposal after its transforms")
    return tuple(transforms)


def _key_length(attrs: bytes, base: int) -> int | None:
    key_length = None
    offset = 0
    while offset < len(attrs):
        if offset + 4 > len(attrs):
            raise IkeError(base + offset, "a 4-byte attribute header")
        kind, value = struct.unpack_from("!HH", attrs, offset)
        if kind & 0x8000:  # TV form: value is the 2 bytes
            if kind & 0x7FFF == ATTR_KEY_LENGTH:
                key_length = value
            offset += 4
        else:  # TLV form: value is the length
            if offset + 4 + value > len(attrs):
                raise IkeError(base + offset + 2, "an attribute length within the transform")
            offset += 4 + value
    return key_length


def parse_redirect(data: bytes) -> Redirect:
    """A REDIRECT notify's data in an IKE_SA_INIT response (RFC 5685 §8, §10): GW Ident Type
    (1 byte), GW Ident Len (1 byte), the New Responder GW Identity (an IPv4 address of 4 bytes,
    an IPv6 address of 16, or a name of 1 to 255), then the Nonce Data — the initiator's Ni,
    16 to 256 bytes (RFC 7296 §3.9), which RFC 5685 has the responder echo in IKE_SA_INIT.
    The nonce is returned as it came (``b""`` when the data ends after the identity): comparing
    it with the request's is the caller's (``decision.py``). Raises IkeError for an identity
    that does not fit the data, a bad type or length, or Nonce Data of a length Ni cannot have."""
    if len(data) < 2:
        raise IkeError(0, "a gateway identity type and length")
    kind, size = data[0], data[1]
    if 2 + size > len(data):
        raise IkeError(1, f"a gateway identity length of at most {len(data) - 2} (the notify "
                          f"data left), not {size}")
    raw = data[2 : 2 + size]
    nonce = data[2 + size :]
    if nonce and not MIN_NONCE <= len(nonce) <= MAX_NONCE:
        raise IkeError(2 + size, f"Nonce Data of {MIN_NONCE} to {MAX_NONCE} bytes after the "
                                 f"gateway identity, not {len(nonce)}")
    if kind == 1 and size == 4 or kind == 2 and size == 16:
        return Redirect(str(ipaddress.ip_address(raw)), nonce)
    if kind == 3 and size > 0:
        try:
            return Redirect(raw.decode("ascii"), nonce)
        except UnicodeDecodeError:
            raise IkeError(2, "an ASCII gateway name") from None
    raise IkeError(0, f"gateway type 1 (IPv4, 4 bytes), 2 (IPv6, 16) or 3 (FQDN, 1 to 255), "
                      f"not {kind} with {size} bytes")


def encode_redirect(gateway: str, nonce: bytes) -> bytes:
    """A REDIRECT notify's data for ``gateway`` (address or name) followed by ``nonce`` (the
    Ni it echoes; ``b""`` for none) — for tests of the parser and of the probe's check (stock
    charon cannot send REDIRECT in IKE_SA_INIT)."""
    try:
        packed = ipaddress.ip_address(gateway).packed
        kind = 1 if len(packed) == 4 else 2
    except ValueError:
        packed, kind = gateway.encode("ascii"), 3
    return bytes([kind, len(packed)]) + packed + nonce


def encode_response(
    *,
    spi_i: bytes,
    spi_r: bytes,
    notifies: tuple[Notify, ...] = (),
    proposal: Proposal | None = None,
    ke_group: int | None = None,
    nonce: bytes | None = None,
    vendor_ids: tuple[bytes, ...] = (),
) -> bytes:
    """An IKE_SA_INIT response (for tests and the fuzz seeds): notifies first, then SA, KE,
    Nr and vendor IDs."""
    bodies: list[tuple[int, bytes]] = [(PAYLOAD_NOTIFY, _notify_body(n.type, n.data))
                                       for n in notifies]
    if proposal is not None:
        bodies.append((PAYLOAD_SA, _encode_proposal(proposal, True)))
    if ke_group is not None:
        bodies.append((PAYLOAD_KE, struct.pack("!HH", ke_group, 0)
                       + bytes(MODP_SIZES.get(ke_group, 32))))
    if nonce is not None:
        bodies.append((PAYLOAD_NONCE, nonce))
    bodies += [(PAYLOAD_VENDOR, v) for v in vendor_ids]
    chain = b"".join(
        _payload(bodies[i + 1][0] if i + 1 < len(bodies) else PAYLOAD_NONE, body)
        for i, (_, body) in enumerate(bodies)
    )
    first = bodies[0][0] if bodies else PAYLOAD_NONE
    return _HEADER.pack(spi_i, spi_r, first, VERSION_2, IKE_SA_INIT, FLAG_RESPONSE, 0,
                        HEADER_SIZE + len(chain)) + chain
