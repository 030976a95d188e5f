"""Tiny models of how each device stores what the renderers emit, for structural delta tests.

Each ``apply_*`` folds a rendered text into a state (a set or dict of facts) the way the device
would: later lines override or remove earlier facts. Then ``apply(full N) + apply(delta)`` must
equal ``apply(full N+1)``. Pure logic, no device: the kernel-checked targets (nftables, iptables)
are tested for real instead.
"""

from __future__ import annotations

import csv
import io
import json
import shlex


def _code_lines(text: str, comment: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith(comment)]


def apply_hierarchical(state: dict[str, set[str]], text: str, comment: str = "!") -> dict[str, set[str]]:
    """IOS-style: unindented lines open a context, indented lines are its children; ``no`` removes."""
    context: str | None = None
    for line in _code_lines(text, comment):
        if line == "end":
            context = None
            continue
        if not line.startswith(" "):
            if line.startswith("no "):
                state.pop(line[3:], None)
                context = None
            else:
                context = line
                state.setdefault(line, set())
            continue
        assert context is not None, f"child line outside a context: {line!r}"
        child = line.strip()
        if child.startswith("no "):
            target = child[3:]
            state[context] = {c for c in state[context] if c != target and c.split()[0] != target}
        else:
            state[context].add(child)
    return state


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


def apply_fortios(state: dict[tuple[str, str], dict[str, list[str]]], text: str) -> dict[tuple[str, str], dict[str, list[str]]]:
    """FortiOS CLI: config/edit/set/append/unselect/delete/next/end."""
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
            entry = (table, rest[0])  # type: ignore[assignment]
            state.setdefault(entry, {})  # type: ignore[arg-type]
        elif verb == "next":
            entry = None
        elif verb == "delete" and entry is None:
            state.pop((table, rest[0]), None)  # type: ignore[arg-type]
        elif verb == "set":
            state[entry][rest[0]] = rest[1:]  # type: ignore[index]
        elif verb == "append":
            state[entry][rest[0]] = state[entry].get(rest[0], []) + rest[1:]  # type: ignore[index]
        elif verb == "unselect":
            state[entry][rest[0]] = [v for v in state[entry][rest[0]] if v not in rest[1:]]  # type: ignore[index]
        else:
            raise AssertionError(f"unexpected FortiOS line {line!r}")
    return {k: {f: sorted(v) for f, v in fields.items()} for k, fields in state.items()}


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
