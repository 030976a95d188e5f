"""Run one simulated card until it is removed.

    python -m simtool.lab.vcard --port P --config C --state S

The config file (JSON, written by the rig, mode 0600 because it may hold the ADM key) says:
profile, iccid, adm_key (hex), adm_tries, isd_keys ([enc, mac, dek] hex; default 404142…4F),
isd_tries, capacity, empty_6a88, drop_updates (PKCS#15 file ids whose updates are
acknowledged and lost), remove_after_apdus, write_delay, and
`rules` (hex REF-AR-DOs) for a new card. The state file is where the card keeps its memory;
if it exists the card is that card re-inserted and starts from it. The card exits (= removal)
on SIGTERM, when vpcd closes the connection, or after answering remove_after_apdus APDUs.
Exit status 2: the config is unusable (message on stderr).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

from .ara_d import default_ara_d_rules
from .aram_applet import decode_entry
from .aram_spec import Refused, normalise_rule
from .card import VirtualCard
from .context import CardContext
from .isd import IsdKeys
from .link import CTRL_ATR, CTRL_POWER_OFF, CTRL_POWER_ON, CTRL_RESET, VpcdLink
from .profiles import get_profile
from .state import CardMemory, load_memory, save_memory
from .tlv import TlvError, parse_one

DEFAULT_ADM_KEY = b"12345678"


class ConfigError(Exception):
    """The card cannot start with this config."""


def build_card(config: dict, state_path: Path) -> VirtualCard:
    """A card as the config says, starting from the state file when there is one."""
    try:
        profile = get_profile(config.get("profile", "spec"))
    except KeyError as err:
        raise ConfigError(err.args[0]) from None
    memory = load_memory(state_path)
    initial = [bytes.fromhex(r) for r in config.get("rules", [])]
    if memory is None:
        memory = CardMemory(adm_tries_left=int(config.get("adm_tries", 10)),
                            isd_tries_left=int(config.get("isd_tries", 3)))
        if profile.ara_d_rules:
            memory.ara_d_rules = default_ara_d_rules()
        if profile.aram == "applet":
            try:
                memory.rules = [decode_entry(r).encode() for r in initial]
            except ValueError as err:
                raise ConfigError(str(err)) from None
        else:
            try:
                memory.rules = [normalise_rule(parse_one(r))[0] for r in initial]
            except (Refused, TlvError):
                memory.rules = initial  # kept as given: tests may plant malformed rules
            if initial:
                memory.refresh_tag = bytes.fromhex("0102030405060708")
    elif initial:
        raise ConfigError("rules given for a card whose state file already exists")
    iccid = str(config.get("iccid", "89882110000000000019"))
    if not (iccid.isdigit() and 18 <= len(iccid) <= 20):
        raise ConfigError(f"ICCID {iccid!r} is not 18 to 20 digits")
    key = bytes.fromhex(config["adm_key"]) if config.get("adm_key") else DEFAULT_ADM_KEY
    if len(key) != 8:
        raise ConfigError(f"the ADM key must be 8 bytes, not {len(key)}")
    isd_keys = None
    if config.get("isd_keys"):
        try:
            enc, mac, dek = (bytes.fromhex(k) for k in config["isd_keys"])
        except ValueError:
            raise ConfigError("isd_keys must be three hex keys (enc, mac, dek)") from None
        isd_keys = IsdKeys(enc, mac, dek)
    ctx = CardContext(
        profile,
        memory,
        capacity=int(config.get("capacity", 4096)),
        empty_6a88=bool(config.get("empty_6a88", False)),
        drop_updates=frozenset(str(f).upper() for f in config.get("drop_updates") or ()),
    )
    return VirtualCard(ctx, iccid, key, int(config.get("adm_tries", 10)), isd_keys,
                       int(config.get("isd_tries", 3)))


def serve(link: VpcdLink, card: VirtualCard, state_path: Path, remove_after: int | None,
          write_delay: float = 0.0) -> None:
    """Answer vpcd until it disconnects or `remove_after` APDUs have been answered; a STORE DATA
    (INS E2) is answered `write_delay` seconds late (a slow card, for pulls and Ctrl-C mid-write)."""
    answered = 0
    atr = card.ctx.profile.atr
    while True:
        message = link.receive()
        if message is None:
            return
        if len(message) == 1:
            code = message[0]
            if code == CTRL_ATR:
                link.send(atr)
            elif code in (CTRL_POWER_ON, CTRL_RESET, CTRL_POWER_OFF):
                card.reset()
            continue
        if write_delay and len(message) > 1 and message[1] == 0xE2:
            time.sleep(write_delay)
        answer = card.transmit(message)
        answered += 1
        save_memory(state_path, card.ctx.memory)
        link.send(answer)
        if remove_after is not None and answered >= remove_after:
            return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simtool.lab.vcard", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="vpcd slot port")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--state", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        config = json.loads(args.config.read_text())
        card = build_card(config, args.state)
    except (OSError, ValueError, ConfigError) as err:
        print(f"vcard: {err}", file=sys.stderr)
        return 2
    memory = card.ctx.memory
    save_memory(args.state, memory)

    def on_term(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_term)
    link = None
    try:
        link = VpcdLink.connect(args.host, args.port)
        serve(link, card, args.state, config.get("remove_after_apdus"), float(config.get("write_delay") or 0))
    finally:
        if link is not None:
            link.close()
        memory.removed = True
        save_memory(args.state, memory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
