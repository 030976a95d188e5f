"""Tiny models of how each device stores what the renderers emit, for structural delta tests.

Each ``apply_*`` folds a rendered text into a state (a set or dict of facts) the way the device
would: later lines override or remove earlier facts. Then ``apply(full N) + apply(delta)`` must
equal ``apply(full N+1)``. Pure logic, no device: the kernel-checked targets (nftables, iptables)
are tested for real instead. The :class:`Device` models further down hold a whole
configuration — the user's and wifiq's — and refuse what the device refuses; the coexistence
contract (tests/render/contract.py) runs on them.
"""

from __future__ import annotations

import csv
import io
import json
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


def _code_lines(text: str, comment: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith(comment)]


def _expand(tokens: list[str]) -> list[tuple[str, ...]]:
    if "[" in tokens:
        start, end = tokens.index("["), tokens.index("]")
        head, items, tail = tokens[:start], tokens[start + 1 : end], tokens[end + 1 :]
        return [tuple(head + [item]) for item in items] + ([tuple(head + tail)] if tail else [])
    return [tuple(tokens)]


def apply_set_style(state: set[tuple[str, ...]], text: str) -> set[tuple[str, ...]]:
    """Junos/PAN-OS/EdgeOS: ``set`` adds facts (``[ a b ]`` lists expand), ``delete`` removes a subtree."""
    for line in _code_lines(text, "#"):
        tokens = shlex.split(line)
        verb, path = tokens[0], tokens[1:]
        if verb == "set":
            state.update(_expand(path))
        elif verb == "delete":
            state = {fact for fact in state if fact[: len(path)] != tuple(path)}
        else:
            raise AssertionError(f"unexpected verb {verb!r}")
    return state


def apply_routeros(state: set[tuple[str, frozenset[str]]], text: str) -> set[tuple[str, frozenset[str]]]:
    """RouterOS: ``<menu> add k=v…`` adds an item; ``<menu> remove [find k=v…]`` removes matches;
    ``:foreach rule in=[<menu> find where k=v…] do={ cmd; cmd }`` runs the commands once per
    matching item, ``$rule`` standing for that item (``place-before=`` then names it)."""
    for line in _code_lines(text, "#"):
        if line.startswith(":do { "):  # :do { inner } on-error={ … }: the inner command, errors aside
            line = line[len(":do { ") : line.rindex(" } on-error=")]
        if line.startswith(":foreach "):
            head, _, body = line.partition(" do={")
            tokens = shlex.split(head.split("in=[", 1)[1].rstrip("]"))
            at = tokens.index("find")
            menu, wanted = " ".join(tokens[:at]), {t for t in tokens[at + 1 :] if t != "where"}
            for item in [i for i in state if i[0] == menu and wanted <= i[1]]:
                ident = "|".join(sorted(item[1]))
                for command in body.rstrip().rstrip("}").split(";"):
                    state = apply_routeros(state, command.strip().replace("$rule", ident))
            continue
        tokens = shlex.split(line)
        at = next(i for i, t in enumerate(tokens) if t in ("add", "remove"))
        menu, verb, args = " ".join(tokens[:at]), tokens[at], tokens[at + 1 :]
        if verb == "add":
            state.add((menu, frozenset(a for a in args if not a.startswith("comment=") or not menu.endswith("address-list"))))
        else:
            wanted = {a.strip("[]") for a in args if a.strip("[]") != "find"}
            state = {item for item in state if not (item[0] == menu and wanted <= item[1])}
    return state


def apply_csv(state: set[tuple[str, ...]], text: str) -> set[tuple[str, ...]]:
    """CSV: a full file is the set of rows; a delta's action column adds or removes rows."""
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    if header[0] != "action":
        return state | {tuple(r) for r in body}
    for row in body:
        (state.add if row[0] == "add" else state.discard)(tuple(row[1:]))
    return state


def apply_json(state: set[tuple[str, str]], text: str) -> set[tuple[str, str]]:
    """JSON: (plmn, address) facts from a full document; a delta document adds/removes them."""
    doc = json.loads(text)
    if doc["format"].startswith("wifiq-render-full"):
        return state | {(op["plmn"], a) for op in doc["operators"] for a in op["ipv4"] + op["ipv6"]}
    for change in doc["changes"]:
        state |= {(change["plmn"], a) for a in change["added"]}
        state -= {(change["plmn"], a) for a in change["removed"]}
    return state


# --------------------------------------------------------------------------------------------
# Device models for the coexistence contract (tests/render/contract.py).
#
# Each model holds a whole configuration — the user's own objects and wifiq's — as named
# objects, and refuses what the real device refuses: deleting an object another one still
# references (at once, or at commit for Junos), a reference left dangling, and the policy shapes
# the vendor rejects. ``objects()`` is the comparable configuration; ``foreign(prefix)`` the
# objects wifiq does not own, with the sub-objects it owns inside them (a class in the user's
# policy-map) taken out; ``first(kind)`` what the device evaluates first where order matters.
# --------------------------------------------------------------------------------------------


Key = tuple[str, ...]


class DeviceRefused(AssertionError):
    """The device model refused a line (the message names it and why)."""


def _owned(name: str, prefix: str) -> bool:
    return name.lower().startswith(prefix.lower())


class Device:
    """Interface of every contract device model."""

    comment = "#"

    def apply(self, text: str) -> None:
        raise NotImplementedError

    def objects(self) -> dict[Key, object]:
        """Every object, by key (kind, name…), with comparable content."""
        raise NotImplementedError

    def references(self) -> set[tuple[Key, Key]]:
        """(referrer, referenced) pairs between objects."""
        raise NotImplementedError

    def foreign(self, prefix: str) -> dict[Key, object]:
        """The objects whose name does not start with ``prefix``, owned sub-objects removed."""
        return {k: v for k, v in self.objects().items() if not _owned(k[-1], prefix)}

    def check_references(self, when: str) -> None:
        existing = set(self.objects())
        for source, target in self.references():
            if target not in existing:
                raise DeviceRefused(f"{when}: {source} references {target}, which does not exist")


# ---- indentation trees: Cisco IOS-XE / Catalyst 9800, ArubaOS, AOS-CX ------------------------


@dataclass
class Node:
    children: list[tuple[str, Node]] = field(default_factory=list)

    def find(self, line: str) -> int:
        for i, (text, _) in enumerate(self.children):
            if text == line:
                return i
        return -1

    def frozen(self) -> tuple[object, ...]:
        return tuple((text, child.frozen()) for text, child in self.children)


@dataclass(frozen=True)
class TreeDialect:
    """How one indentation-tree CLI names, references and replaces things."""

    key: Callable[[str], Key | None]  # top-level line -> object key
    refs: Callable[[Key, str], Iterable[Key]]  # (object, child line) -> referenced keys
    replaces: Callable[[str, str], bool]  # (existing child, new child) -> the new one replaces it
    owned_child: Callable[[str, str], bool]  # (child line, prefix) -> a sub-object wifiq owns
    normalise: Callable[[str], tuple[str, str | None]] = lambda line: (line, None)  # -> (line, insert-before)
    ordered: Callable[[Key], bool] = lambda key: True  # does the order of its children matter?
    comment: str = "!"


class TreeDevice(Device):
    """An IOS-style configuration: indentation opens contexts, ``no …`` removes."""

    def __init__(self, dialect: TreeDialect) -> None:
        self.dialect = dialect
        self.comment = dialect.comment
        self.root = Node()

    def _top(self) -> dict[Key, tuple[str, Node]]:
        out = {}
        for text, node in self.root.children:
            key = self.dialect.key(text)
            if key is not None:
                out[key] = (text, node)
        return out

    def objects(self) -> dict[Key, object]:
        return {
            key: (text, node.frozen() if self.dialect.ordered(key) else frozenset(node.frozen()))
            for key, (text, node) in self._top().items()
        }

    def references(self) -> set[tuple[Key, Key]]:
        refs = set()
        for key, (_, node) in self._top().items():
            stack = list(node.children)
            while stack:
                text, child = stack.pop()
                refs |= {(key, target) for target in self.dialect.refs(key, text)}
                stack += child.children
        return refs

    def foreign(self, prefix: str) -> dict[Key, object]:
        out = {}
        for key, (text, node) in self._top().items():
            if _owned(key[-1], prefix):
                continue
            kept = tuple((t, c.frozen()) for t, c in node.children if not self.dialect.owned_child(t, prefix))
            out[key] = (text, kept)
        return out

    def _remove(self, parent: Node, target: str, at_top: bool) -> None:
        words = target.split()
        matches = [i for i, (text, _) in enumerate(parent.children) if text == target or text.split()[: len(words)] == words]
        if at_top:
            for i in matches:
                key = self.dialect.key(parent.children[i][0])
                users = {src for src, dst in self.references() if dst == key and src != key}
                if users:
                    raise DeviceRefused(f"no {target}: still referenced by {sorted(users)}")
        for i in reversed(matches):
            del parent.children[i]

    def apply(self, text: str) -> None:
        stack: list[tuple[int, Node]] = [(-1, self.root)]
        for raw in text.splitlines():
            if not raw.strip() or raw.lstrip().startswith(self.comment):
                continue
            indent = len(raw) - len(raw.lstrip(" "))
            line = raw.strip()
            if indent == 0 and line in ("end", "exit"):
                stack = [(-1, self.root)]
                continue
            while stack[-1][0] >= indent:
                stack.pop()
            parent = stack[-1][1]
            if line.startswith("no "):
                self._remove(parent, line[3:], parent is self.root)
                continue
            line, before = self.dialect.normalise(line)
            index = parent.find(line)
            if index < 0:
                replaced = [i for i, (t, _) in enumerate(parent.children) if self.dialect.replaces(t, line)]
                if replaced:
                    index = replaced[0]
                    parent.children[index] = (line, parent.children[index][1])
                else:
                    position = len(parent.children)
                    if before is not None and before.startswith("#"):
                        position = min(int(before[1:]) - 1, len(parent.children))  # "position N"
                    elif before is not None:
                        found = parent.find(before)
                        if found < 0:
                            raise DeviceRefused(f"{raw.strip()}: no {before!r} to insert before")
                        position = found
                    elif parent is not self.root and parent.find("class class-default") >= 0:
                        position = parent.find("class class-default")  # class-default stays last
                    parent.children.insert(position, (line, Node()))
                    index = position
            stack.append((indent, parent.children[index][1]))
        self.check_references("after the paste")

    def child_lines(self, key: Key) -> list[str]:
        """The direct children of one top-level object, in order."""
        found = self._top().get(key)
        return [text for text, _ in found[1].children] if found else []


def _last(line: str) -> str:
    return line.split()[-1]


def _ios_key(line: str) -> Key | None:
    words = line.split()
    if line.startswith(("ip access-list extended ", "ipv6 access-list ")):
        return ("acl", words[-1])
    for head, kind in (("class-map ", "class-map"), ("policy-map ", "policy-map"), ("interface ", "interface"),
                       ("wireless profile policy ", "profile")):
        if line.startswith(head):
            return (kind, words[-1])
    return None


def _ios_refs(key: Key, line: str) -> Iterable[Key]:
    words = line.split()
    if key[0] == "class-map" and line.startswith("match access-group name "):
        return [("acl", words[-1])]
    if key[0] == "policy-map" and words[0] == "class" and words[1] != "class-default":
        return [("class-map", words[1])]
    if key[0] in ("interface", "profile") and words[0] == "service-policy":
        return [("policy-map", words[-1])]
    return []


def _ios_replaces(old: str, new: str) -> bool:
    for head in ("service-policy input ", "service-policy output ", "set dscp "):
        if old.startswith(head) and new.startswith(head):
            return True
    return False


def _ios_normalise(line: str) -> tuple[str, str | None]:
    if line.startswith("class ") and " insert-before " in line:
        name, _, before = line[len("class "):].partition(" insert-before ")
        return f"class {name}", f"class {before}"
    return line, None


IOS = TreeDialect(
    key=_ios_key,
    refs=_ios_refs,
    replaces=_ios_replaces,
    owned_child=lambda line, prefix: line.startswith("class ") and _owned(line.split()[1], prefix),
    normalise=_ios_normalise,
    ordered=lambda key: key[0] in ("policy-map", "interface", "profile"),
)


def _aos_key(line: str) -> Key | None:
    words = line.split()
    if words[0] in ("netdestination", "netdestination6"):
        return ("alias", words[1])
    if line.startswith("ip access-list session "):
        return ("acl", words[-1])
    if words[0] == "user-role":
        return ("role", words[1])
    return None


def _aos_refs(key: Key, line: str) -> Iterable[Key]:
    words = line.split()
    if key[0] == "acl":
        return [("alias", words[i + 1]) for i, w in enumerate(words[:-1]) if w == "alias"]
    if key[0] == "role" and line.startswith("access-list session "):
        return [("acl", words[2])]
    return []


def _aos_normalise(line: str) -> tuple[str, str | None]:
    words = line.split()
    if line.startswith("access-list session ") and len(words) == 5 and words[3] == "position":
        return " ".join(words[:3]), f"#{words[4]}"
    return line, None


ARUBA_OS = TreeDialect(
    key=_aos_key,
    normalise=_aos_normalise,
    refs=_aos_refs,
    replaces=lambda old, new: old.split()[:3] == new.split()[:3] and old.startswith("access-list session "),
    owned_child=lambda line, prefix: False,
    ordered=lambda key: key[0] == "role",
)


def _cx_key(line: str) -> Key | None:
    words = line.split()
    if words[0] == "class" and len(words) == 3:
        return ("class", words[2])
    if words[0] in ("policy", "interface"):
        return (words[0], words[1])
    return None


def _cx_refs(key: Key, line: str) -> Iterable[Key]:
    words = line.split()
    if key[0] == "policy" and len(words) > 3 and words[1] == "class":
        return [("class", words[3])]
    if key[0] == "interface" and line.startswith("apply policy "):
        return [("policy", words[2])]
    return []


def _cx_replaces(old: str, new: str) -> bool:
    o, n = old.split(), new.split()
    if o[0].isdigit() and n[0].isdigit():
        return o[0] == n[0]
    return old.startswith("apply policy ") and new.startswith("apply policy ") and o[-1] == n[-1]


ARUBA_CX = TreeDialect(
    key=_cx_key,
    refs=_cx_refs,
    replaces=_cx_replaces,
    owned_child=lambda line, prefix: len(line.split()) > 3 and line.split()[1] == "class" and _owned(line.split()[3], prefix),
    ordered=lambda key: key[0] == "interface",
)


# ---- set/delete stores: Junos (checked at commit) and PAN-OS (checked at once) ----------------


#: Single-valued leaves of the set-style trees (the token path just before the value): a ``set``
#: of one replaces the value it held, as on the device — PAN-OS ``qos marking ip-dscp``, Junos
#: ``then dscp``, EdgeOS ``modify dscp``, VyOS ``set dscp`` each hold one DSCP.
SINGLE_VALUED_LEAVES: tuple[tuple[str, ...], ...] = (
    ("qos", "marking", "ip-dscp"), ("then", "dscp"), ("modify", "dscp"), ("set", "dscp"),
)


def _single_valued(fact: tuple[str, ...]) -> bool:
    return any(len(fact) > len(leaf) and fact[-len(leaf) - 1:-1] == leaf for leaf in SINGLE_VALUED_LEAVES)


class SetDevice(Device):
    """``set``/``delete`` facts, in the order they were first set (term and rule order matter)."""

    def __init__(self, objects: Callable[[tuple[str, ...]], Key | None], refs: Callable[[tuple[str, ...]], Iterable[Key]],
                 at_once: bool) -> None:
        self.facts: dict[tuple[str, ...], None] = {}
        self.key_of = objects
        self.refs_of = refs
        self.at_once = at_once
        self.order: list[Key] = []  # rule order (PAN-OS "move")

    def objects(self) -> dict[Key, object]:
        grouped: dict[Key, list[tuple[str, ...]]] = {}
        for fact in self.facts:
            key = self.key_of(fact)
            if key is not None:
                grouped.setdefault(key, []).append(fact)
        return {key: _ordered_content(facts) for key, facts in grouped.items()}

    def references(self) -> set[tuple[Key, Key]]:
        return {(self.key_of(f), target) for f in self.facts for target in self.refs_of(f)}  # type: ignore[misc]

    def rules_in_order(self) -> list[Key]:
        present = {self.key_of(f) for f in self.facts}
        self.order = [k for k in self.order if k in present]
        return self.order

    def apply(self, text: str) -> None:
        for line in _code_lines(text, "#"):
            tokens = shlex.split(line)
            verb, path = tokens[0], tokens[1:]
            if verb == "set":
                for fact in _expand(path):
                    if _single_valued(fact):
                        for old in [f for f in self.facts if f[:-1] == fact[:-1] and f != fact]:
                            del self.facts[old]
                    self.facts.setdefault(fact, None)
                    key = self.key_of(fact)
                    if key and key[0] == "rule" and key not in self.order:
                        self.order.append(key)
            elif verb == "delete":
                gone = [f for f in self.facts if f[: len(path)] == tuple(path)]
                for fact in gone:
                    del self.facts[fact]
                if self.at_once:
                    self._refuse_dangling(line)
            elif verb == "move":
                self._move(path)
            elif verb == "insert":
                raise DeviceRefused(f"{line}: insert is not modelled")
            else:
                raise DeviceRefused(f"unexpected verb {verb!r} in {line!r}")
        self.check_references("at commit")

    def _refuse_dangling(self, line: str) -> None:
        try:
            self.check_references(line)
        except DeviceRefused as err:
            raise DeviceRefused(f"{line}: deletes an object still referenced ({err})") from None

    def _move(self, path: list[str]) -> None:
        # move rulebase security rules NAME top|bottom|before X|after X
        key = self.key_of(tuple(path[:4]) + ("x",))
        if key not in self.rules_in_order():
            raise DeviceRefused(f"move: no rule {path[3]}")
        self.order.remove(key)  # type: ignore[arg-type]
        where = path[4]
        if where == "top":
            self.order.insert(0, key)  # type: ignore[arg-type]
        elif where == "bottom":
            self.order.append(key)  # type: ignore[arg-type]
        else:
            other = ("rule", path[5])
            if other not in self.order:
                raise DeviceRefused(f"move: no rule {path[5]}")
            self.order.insert(self.order.index(other) + (where == "after"), key)  # type: ignore[arg-type]


def _ordered_content(facts: list[tuple[str, ...]]) -> object:
    """Facts grouped by term in first-seen order (term order is evaluation order)."""
    if any("term" in f for f in facts):
        terms: dict[str, set[tuple[str, ...]]] = {}
        rest = set()
        for f in facts:
            if "term" in f:
                i = f.index("term")
                terms.setdefault(f[i + 1], set()).add(f[i + 2:])
            else:
                rest.add(f)
        return (frozenset(rest), tuple((name, frozenset(body)) for name, body in terms.items()))
    return frozenset(facts)


def _junos_key(fact: tuple[str, ...]) -> Key | None:
    if fact[:2] == ("policy-options", "prefix-list") and len(fact) >= 3:
        return ("prefix-list", fact[2])
    if fact[:2] == ("firewall", "family") and len(fact) >= 5 and fact[3] == "filter":
        return ("filter", fact[2], fact[4])
    if fact[0] == "interfaces" and len(fact) >= 2:
        return ("interface", fact[1])
    return None


def _junos_refs(fact: tuple[str, ...]) -> list[Key]:
    out: list[Key] = []
    for i, word in enumerate(fact[:-1]):
        if word in ("destination-prefix-list", "source-prefix-list", "prefix-list") and fact[0] == "firewall":
            out.append(("prefix-list", fact[i + 1]))
        if fact[0] == "interfaces" and word in ("input", "input-list", "output", "output-list") and "filter" in fact:
            out.append(("filter", fact[fact.index("family") + 1], fact[i + 1]))
    return out


def junos_device() -> SetDevice:
    return SetDevice(_junos_key, _junos_refs, at_once=False)


def _panos_key(fact: tuple[str, ...]) -> Key | None:
    if fact[0] in ("address", "address-group") and len(fact) >= 2:
        return (fact[0], fact[1])
    if fact[:3] == ("rulebase", "security", "rules") and len(fact) >= 4:
        return ("rule", fact[3])
    return None


def _panos_refs(fact: tuple[str, ...]) -> list[Key]:
    if fact[0] == "address-group" and len(fact) == 4 and fact[2] == "static":
        return [("address", fact[3])]
    if fact[:3] == ("rulebase", "security", "rules") and len(fact) == 6 and fact[4] == "destination" and fact[5] != "any":
        return [("address-group", fact[5])]
    return []


def panos_device() -> SetDevice:
    return SetDevice(_panos_key, _panos_refs, at_once=True)


# ---- FortiOS: config tables of entries with fields ---------------------------------------------

_FORTI_REFS = {
    ("firewall addrgrp", "member"): "firewall address",
    ("firewall addrgrp6", "member"): "firewall address6",
    ("firewall shaping-policy", "dstaddr"): "firewall addrgrp",
    ("firewall shaping-policy", "dstaddr6"): "firewall addrgrp6",
    ("firewall shaping-policy", "srcaddr"): "firewall address",
    ("firewall shaping-policy", "srcaddr6"): "firewall address6",
    ("firewall shaping-policy", "service"): "firewall service custom",
}
_FORTI_BUILTIN = {("firewall address", "all"), ("firewall address6", "all")}


class FortiosDevice(Device):
    """FortiOS CLI: ``config``/``edit``/``set``/``unset``/``append``/``unselect``/``delete``/``move``."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], dict[str, list[str]]] = {}
        self.order: dict[str, list[str]] = {}

    def _key(self, table: str, name: str) -> Key:
        # A policy is known by its id and its name (its owner): overwriting someone's id shows.
        if table == "firewall shaping-policy":
            return (table, name, (self.entries[(table, name)].get("name") or [""])[0])
        return (table, name)

    def objects(self) -> dict[Key, object]:
        return {
            self._key(table, name): frozenset((f, tuple(sorted(v))) for f, v in fields.items())  # lists are sets
            for (table, name), fields in self.entries.items()
        }

    def references(self) -> set[tuple[Key, Key]]:
        out = set()
        for (table, name), fields in self.entries.items():
            for field_name, values in fields.items():
                target = _FORTI_REFS.get((table, field_name))
                if target is None:
                    continue
                for value in values:
                    if (target, value) in _FORTI_BUILTIN:
                        continue
                    # address groups may also name single addresses
                    source = self._key(table, name)
                    if target.startswith("firewall addrgrp") and (target.replace("addrgrp", "address"), value) in self.entries:
                        out.add((source, (target.replace("addrgrp", "address"), value)))
                    else:
                        out.add((source, (target, value)))
        return out

    def apply(self, text: str) -> None:
        table: str | None = None
        entry: tuple[str, str] | None = None
        for line in _code_lines(text, "#"):
            tokens = shlex.split(line)
            verb, rest = tokens[0], tokens[1:]
            if verb == "config":
                table = " ".join(rest)
            elif verb == "end":
                table = None
            elif verb == "edit":
                assert table is not None, line
                if rest[0] == "0":
                    raise DeviceRefused("edit 0 creates a new entry each time")
                entry = (table, rest[0])
                if entry not in self.entries:
                    self.entries[entry] = {}
                    self.order.setdefault(table, []).append(rest[0])
            elif verb == "next":
                entry = None
            elif verb == "delete" and entry is None:
                key = (table, rest[0])
                users = {src for src, dst in self.references() if dst == key}  # policies are never referenced
                if users:
                    raise DeviceRefused(f"delete {rest[0]} in {table}: entry is used by {sorted(users)}")
                self.entries.pop(key, None)  # type: ignore[arg-type]
                if table in self.order and rest[0] in self.order[table]:
                    self.order[table].remove(rest[0])
            elif verb == "move" and entry is None:
                ids = self.order[table]  # type: ignore[index]
                ids.remove(rest[0])
                ids.insert(ids.index(rest[2]) + (rest[1] == "after"), rest[0])
            elif verb == "set":
                self.entries[entry][rest[0]] = rest[1:]  # type: ignore[index]
            elif verb == "unset":
                self.entries[entry].pop(rest[0], None)  # type: ignore[index]
            elif verb == "append":
                self.entries[entry][rest[0]] = self.entries[entry].get(rest[0], []) + rest[1:]  # type: ignore[index]
            elif verb == "unselect":
                values = [v for v in self.entries[entry].get(rest[0], []) if v not in rest[1:]]  # type: ignore[index]
                if not values:
                    raise DeviceRefused(f"{line}: would leave {rest[0]} empty (FortiOS refuses)")
                self.entries[entry][rest[0]] = values  # type: ignore[index]
            else:
                raise DeviceRefused(f"unexpected FortiOS line {line!r}")
        self.check_references("after the paste")
        self._check_policies()

    def _check_policies(self) -> None:
        for (table, name), fields in self.entries.items():
            if table != "firewall shaping-policy":
                continue
            version = (fields.get("ip-version") or ["4"])[0]
            v4 = bool(fields.get("srcaddr")) and bool(fields.get("dstaddr"))
            v6 = bool(fields.get("srcaddr6")) and bool(fields.get("dstaddr6"))
            if bool(fields.get("srcaddr6")) != bool(fields.get("dstaddr6")):
                raise DeviceRefused(f"shaping-policy {name}: srcaddr6 and dstaddr6 go together")
            if "ip-version" in fields:
                if version == "4" and (not v4 or fields.get("dstaddr6")):
                    raise DeviceRefused(f"shaping-policy {name}: ip-version 4 needs srcaddr+dstaddr and no dstaddr6")
                if version == "6" and (not v6 or fields.get("dstaddr")):
                    raise DeviceRefused(f"shaping-policy {name}: ip-version 6 needs srcaddr6+dstaddr6 and no dstaddr")
            elif not (v4 or v6):
                raise DeviceRefused(f"shaping-policy {name}: no source/destination pair")


class DeviceState:
    """A contract device as a state value for ``apply(state, text) -> state`` checks: equal when
    the configurations are equal."""

    def __init__(self, device: Device) -> None:
        self.device = device

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DeviceState) and self.device.objects() == other.device.objects()

    def __repr__(self) -> str:
        return repr(self.device.objects())


def applier(factory: Callable[[], Device]) -> Callable[[DeviceState | None, str], DeviceState]:
    """``apply(state, text)`` over a contract device model (``None``: a new, empty device)."""

    def apply(state: DeviceState | None, text: str) -> DeviceState:
        device = state.device if state is not None else factory()
        device.apply(text)
        return DeviceState(device)

    return apply
