"""Contract device models for mikrotik, meraki, edgeos, vyos and the file targets, plus devices
backed by the real kernel for nftables, openwrt-fw4 and iptables (tests/render/contract.py).

The kernel devices replay every text applied so far in a fresh network namespace (``unshare
--net``) and read the result back from the kernel: ``nft -j list ruleset``, ``iptables-save``,
``ipset save``. Nothing stays behind, and the kernel itself refuses what it refuses.
"""

from __future__ import annotations

import atexit
import json
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

from wifiq.render.base import split_sections

from . import device_models as dm
from .device_models import Device, DeviceRefused, Key, SetDevice, _code_lines, _owned

# ---- RouterOS -----------------------------------------------------------------------------------


class RouterOsDevice(Device):
    """RouterOS menus as ordered item lists: ``add`` (``place-before=`` an item), ``remove [find
    k=v]``, ``:foreach x in=[<menu> find where k=v] do={ … }`` and ``:do { … } on-error={ … }``."""

    comment = "#"

    def __init__(self) -> None:
        self.items: list[tuple[str, int, frozenset[str]]] = []  # (menu, id, args) in menu order
        self.next_id = 0

    def _matches(self, menu: str, wanted: set[str]) -> list[tuple[str, int, frozenset[str]]]:
        return [item for item in self.items if item[0] == menu and wanted <= item[2]]

    def _add(self, menu: str, args: list[str]) -> None:
        before = next((a.split("=", 1)[1] for a in args if a.startswith("place-before=")), None)
        kept = frozenset(a for a in args if not a.startswith("place-before="))
        item = (menu, self.next_id, kept)
        self.next_id += 1
        if before is None:
            self.items.append(item)
            return
        at = next((i for i, it in enumerate(self.items) if it[0] == menu and str(it[1]) == before), None)
        if at is None:
            raise DeviceRefused(f"{menu} add: place-before={before}: no such item")
        self.items.insert(at, item)

    def _run(self, line: str) -> None:
        if line.startswith(":do { "):
            line = line[len(":do { ") : line.rindex(" } on-error=")]
        if line.startswith(":foreach "):
            head, _, body = line.partition(" do={")
            tokens = shlex.split(head.split("in=[", 1)[1].rstrip("]"))
            at = tokens.index("find")
            menu, wanted = " ".join(tokens[:at]), {t for t in tokens[at + 1 :] if t != "where"}
            for item in self._matches(menu, wanted):
                for command in body.rstrip().rstrip("}").split(";"):
                    if command.strip():
                        self._run(command.strip().replace("$rule", str(item[1])))
            return
        tokens = shlex.split(line)
        at = next((i for i, t in enumerate(tokens) if t in ("add", "remove")), None)
        if at is None:
            raise DeviceRefused(f"unexpected RouterOS line {line!r}")
        menu, verb, args = " ".join(tokens[:at]), tokens[at], tokens[at + 1 :]
        if verb == "add":
            self._add(menu, args)
        else:
            wanted = {a.strip("[]") for a in args if a.strip("[]") not in ("find", "")}
            gone = set(self._matches(menu, wanted))
            self.items = [item for item in self.items if item not in gone]

    def apply(self, text: str) -> None:
        for line in _code_lines(text, self.comment):
            self._run(line)

    @staticmethod
    def _name(args: frozenset[str]) -> str:
        comment = next((a.split("=", 1)[1] for a in args if a.startswith("comment=")), None)
        return comment or "user:" + " ".join(sorted(args))

    def objects(self) -> dict[Key, object]:
        out: dict[Key, list[frozenset[str]]] = {}
        for menu, _, args in self.items:
            if menu.endswith("address-list"):
                lst = next(a.split("=", 1)[1] for a in args if a.startswith("list="))
                address = next(a.split("=", 1)[1] for a in args if a.startswith("address="))
                out.setdefault((menu, "address-list", address, lst), []).append(args)
            else:
                out.setdefault((menu, self._name(args)), []).append(args)
        return {key: tuple(value) for key, value in out.items()}

    def references(self) -> set[tuple[Key, Key]]:
        return set()  # a rule may name an address list that has no entry (RouterOS allows it)

    def chain(self, menu: str, chain: str) -> list[str]:
        """The names of one chain's rules, in evaluation order."""
        return [self._name(args) for m, _, args in self.items if m == menu and f"chain={chain}" in args]


# ---- Meraki -------------------------------------------------------------------------------------

#: What the Dashboard accepts for dscpTagValue (its dscpTaggingOptions): refused otherwise.
MERAKI_DSCP = {0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 46, 48, 56}


class MerakiDevice(Device):
    """One SSID's traffic-shaping settings. A full body (``rules``) is what the user has; a
    wifiq rule (``definitions``) is applied the way docs/render/meraki.md says: GET, replace the
    rule whose first definition is the same marker (or none), put it first, PUT."""

    comment = "#"

    def __init__(self) -> None:
        self.body: dict[str, object] = {"trafficShapingEnabled": True, "defaultRulesEnabled": True, "rules": []}

    def apply(self, text: str) -> None:
        if not text.strip():
            return
        doc = json.loads(text)
        if "rules" in doc:  # the user's own settings (the case's starting point)
            self.body = doc
            return
        if doc.get("dscpTagValue") not in MERAKI_DSCP:
            raise DeviceRefused(f"dscpTagValue {doc.get('dscpTagValue')} is not a dscpTaggingOption")
        if self.body.get("trafficShapingEnabled") is not True:
            raise DeviceRefused("traffic shaping is off: the documented merge stops")
        rules = [r for r in self.body["rules"] if r["definitions"][0] != doc["definitions"][0]]  # type: ignore[index,union-attr]
        body = {**self.body, "rules": [doc, *rules]}
        if len(body["rules"]) > 8:
            raise DeviceRefused("more than 8 traffic-shaping rules")
        self.body = body

    def _rule_name(self, index: int, rule: dict[str, object]) -> str:
        first = rule["definitions"][0]  # type: ignore[index]
        if first.get("type") == "host" and str(first.get("value", "")).endswith(".invalid"):
            return str(first["value"])
        return "user-rule:" + json.dumps(rule["definitions"], sort_keys=True)

    def objects(self) -> dict[Key, object]:
        out: dict[Key, object] = {
            ("ssid", "settings"): (self.body.get("trafficShapingEnabled"), self.body.get("defaultRulesEnabled"))
        }
        for i, rule in enumerate(self.body["rules"]):  # type: ignore[arg-type]
            out[("rule", self._rule_name(i, rule))] = json.dumps(rule, sort_keys=True)
        return out

    def references(self) -> set[tuple[Key, Key]]:
        return set()

    def first_rule(self) -> str:
        rules = self.body["rules"]
        return self._rule_name(0, rules[0]) if rules else ""  # type: ignore[index]


# ---- EdgeOS / VyOS ------------------------------------------------------------------------------


def _vyatta_key(fact: tuple[str, ...]) -> Key | None:
    if fact[:2] == ("firewall", "group") and len(fact) >= 4:
        return ("group", fact[3])
    if fact[0] == "firewall" and len(fact) >= 3 and fact[1] in ("modify", "ipv6-modify"):
        if len(fact) >= 5 and fact[3] == "rule":
            return ("rule", fact[1], fact[2], fact[4])
        return (fact[1], fact[2])
    if fact[:2] == ("policy", "route") or fact[:2] == ("policy", "route6"):
        if len(fact) >= 5 and fact[3] == "rule":
            return ("rule", fact[1], fact[2], fact[4])
        return (fact[1], fact[2])
    if fact[0] == "interfaces" and len(fact) >= 3:
        return ("interface", fact[2])
    return None


def _vyatta_refs(fact: tuple[str, ...]) -> list[Key]:
    out: list[Key] = []
    if "group" in fact[3:] and fact[0] in ("firewall", "policy"):
        i = fact.index("group", 3)
        if i + 2 < len(fact):
            out.append(("group", fact[i + 2]))
    if fact[0] == "interfaces" and len(fact) >= 7 and fact[3] == "firewall":
        out.append((fact[5], fact[6]))
    return out


class VyattaDevice(SetDevice):
    """EdgeOS / VyOS ``set``/``delete`` tree, checked at commit. wifiq's objects: those named
    with the prefix, the rules inside them, and rules it put into a user's rule set (their
    description starts with the prefix)."""

    def __init__(self) -> None:
        super().__init__(_vyatta_key, _vyatta_refs, at_once=False)

    def objects(self) -> dict[Key, object]:
        out = super().objects()
        for key in list(out):
            if key[0] == "rule":  # a rule set / policy exists as soon as it has a rule
                out.setdefault((key[1], key[2]), frozenset())
        return out

    def _described(self, key: Key, prefix: str) -> bool:
        for fact in self.facts:
            if _vyatta_key(fact) == key and "description" in fact:
                return _owned(fact[fact.index("description") + 1], prefix)
        return False

    def foreign(self, prefix: str) -> dict[Key, object]:
        return {
            key: value
            for key, value in self.objects().items()
            if not any(_owned(part, prefix) for part in key[1:]) and not (key[0] == "rule" and self._described(key, prefix))
        }


def edgeos_device() -> VyattaDevice:
    return VyattaDevice()


# ---- whole-file targets ---------------------------------------------------------------------------


class FileDevice(Device):
    """A file the device (or a script) reads whole: the last full text wins; csv/json deltas
    change rows the way their readers do."""

    def __init__(self, target: str, comment: str = "#") -> None:
        self.target = target
        self.comment = comment
        self.rows: set[tuple[str, ...]] | set[tuple[str, str]] = set()
        self.text = ""

    def apply(self, text: str) -> None:
        if not text.strip():
            return
        if self.target == "csv":
            header = text.splitlines()[0]
            self.rows = dm.apply_csv(set() if not header.startswith("action") else set(self.rows), text)  # type: ignore[arg-type]
        elif self.target == "json":
            full = json.loads(text)["format"].startswith("wifiq-render-full")
            self.rows = dm.apply_json(set() if full else set(self.rows), text)  # type: ignore[arg-type]
        else:
            self.text = text

    def objects(self) -> dict[Key, object]:
        if self.target in ("csv", "json"):
            return {("file", f"wifiq.{self.target}"): frozenset(self.rows)}
        body = "\n".join(line for line in self.text.splitlines() if not line.startswith(self.comment))
        return {("file", f"wifiq.{self.target}"): body}

    def references(self) -> set[tuple[Key, Key]]:
        return set()


# ---- kernel-backed: nftables, openwrt-fw4, iptables ----------------------------------------------


#: The kernel devices' files (nft/ipset/iptables inputs), removed when the test process ends.
_FILES = Path(tempfile.mkdtemp(prefix="wifiq-contract-"))
atexit.register(shutil.rmtree, _FILES, True)


def _netns(script: str) -> str:
    proc = subprocess.run(["unshare", "--net", "sh", "-ec", script], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise DeviceRefused(f"the kernel refused: {proc.stderr.strip()}")
    return proc.stdout


def fw4_ruleset(include: Path, user_include: Path | None = None) -> str:
    """A fw4-like ruleset (firewall4's ruleset.uc: ``table``/``flush table``/``table inet fw4 {``
    zone defines, ``include "/etc/nftables.d/*.nft"``, fw4's own chains ``}``)."""
    includes = [f'\tinclude "{path}"' for path in (user_include, include) if path is not None]
    return "\n".join([
        "table inet fw4",
        "flush table inet fw4",
        "table inet fw4 {",
        '\tdefine lan_devices = { "lo" }',
        *includes,
        "\tchain forward {",
        "\t\ttype filter hook forward priority filter; policy accept;",
        '\t\tct state established,related accept comment "!fw4: Allow forwarded established and related flows"',
        "\t}",
        "\tchain mangle_postrouting {",
        "\t\ttype filter hook postrouting priority mangle; policy accept;",
        "\t}",
        "}",
    ]) + "\n"


class KernelDevice(Device):
    """nft / iptables+ipset state in a throwaway namespace, rebuilt from every text applied."""

    comment = "#"

    def __init__(self, target: str) -> None:
        self.target = target
        self.dir = Path(tempfile.mkdtemp(dir=_FILES))
        self.steps: list[str] = []
        self.user = ""
        self.wifiq = ""
        self.count = 0
        self._cache: dict[Key, object] | None = None

    def _write(self, name: str, text: str) -> Path:
        path = self.dir / name
        path.write_text(text)
        return path

    def apply(self, text: str) -> None:
        if not text.strip():
            return
        self.count += 1
        n = self.count
        code = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
        if self.target == "nftables":
            if code:
                self.steps.append(f"nft -f {self._write(f's{n}.nft', text)}")
        elif self.target == "openwrt-fw4":
            if text.startswith("# wifiq"):
                self.wifiq = text  # /etc/nftables.d/wifiq.nft, then fw4 reload
            elif code:
                self.user = text  # the user's own include in /etc/nftables.d/
            else:
                return
            include = self._write(f"wifiq{n}.nft", self.wifiq)
            user = self._write(f"user{n}.nft", self.user) if self.user else None
            self.steps.append(f"nft -f {self._write(f'fw4-{n}.nft', fw4_ruleset(include, user))}")  # fw4 reload
        else:  # iptables: sections, or plain shell lines (the user's config, the hook lines)
            files = split_sections(text)
            if not files:
                self.steps.append(text)
            for name, body in files.items():
                path = self._write(f"{n}-{name}", body)
                if name.endswith(".ipset"):
                    self.steps.append(f"ipset restore < {path}")
                elif name.endswith(".v4"):
                    self.steps.append(f"iptables-restore --noflush {path}")
                else:
                    self.steps.append(f"ip6tables-restore --noflush {path}")
        self._cache = None
        self.objects()  # the kernel refuses now, as the device would at apply time

    def objects(self) -> dict[Key, object]:
        if self._cache is None:
            self._cache = self._read()
        return self._cache

    def _read(self) -> dict[Key, object]:
        script = "\n".join(step.strip() for step in self.steps) if self.steps else "true"
        if self.target in ("nftables", "openwrt-fw4"):
            doc = json.loads(_netns(script + "\nnft -j list ruleset"))
            out: dict[Key, object] = {}
            for item in doc["nftables"]:
                for kind in ("table", "chain", "set"):
                    if kind in item:
                        obj = item[kind]
                        if kind == "table":
                            out[("table", obj["family"], obj["name"])] = ()
                        else:
                            elems = tuple(sorted(json.dumps(e, sort_keys=True) for e in obj.get("elem", [])))
                            out[(kind, obj["table"], obj["name"])] = (obj.get("hook"), obj.get("prio"), elems)
                if "rule" in item:
                    rule = item["rule"]
                    key: Key = ("chain", rule["table"], rule["chain"])
                    body = json.dumps(rule["expr"], sort_keys=True)
                    hook, prio, rules = out.get(key, (None, None, ()))  # type: ignore[misc]
                    out[key] = (hook, prio, (*rules, body))
            return out
        text = _netns(script + "\niptables-save -t mangle; echo ==6==; ip6tables-save -t mangle; echo ==set==; ipset save")
        out = {}
        for family, part in zip(("v4", "v6"), text.split("==set==")[0].split("==6==")):
            chains: dict[str, list[str]] = {}
            for line in part.splitlines():
                if line.startswith(":"):
                    chains.setdefault(line[1:].split()[0], [])
                elif line.startswith("-A "):
                    chains.setdefault(line.split()[1], []).append(line)
            for chain, rules in chains.items():
                out[("chain", family, chain)] = tuple(rules)
        for line in text.split("==set==")[1].splitlines():
            words = line.split()
            if words and words[0] == "create":
                out.setdefault(("ipset", words[1]), frozenset())
            elif words and words[0] == "add":
                out[("ipset", words[1])] = out.get(("ipset", words[1]), frozenset()) | {words[2]}  # type: ignore[operator]
        return out

    def references(self) -> set[tuple[Key, Key]]:
        return set()  # the kernel itself refuses a dangling reference (checked in apply)

    def foreign(self, prefix: str) -> dict[Key, object]:
        return {k: v for k, v in self.objects().items() if not any(_owned(part, prefix) for part in k[1:])}
