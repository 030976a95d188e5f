"""Libreswan's pluto as a real IKEv2 responder that answers IKE_SA_INIT with REDIRECT (RFC 5685).

Why pluto: strongSwan's charon sends REDIRECT in IKE_SA_INIT only through a redirect provider
that no plugin of Debian's strongSwan ships; pluto does it with ``global-redirect=yes`` and
``global-redirect-to=`` (an IPv4 or IPv6 address or a name) in ``config setup``, before it
looks for a connection: no connection, key or certificate is loaded.

Debian's ``libreswan`` conflicts with the strongswan-libcharon the charon tests need, so it is
not installed: ``scripts/setup`` unpacks its .deb (``apt-get download``, ``dpkg-deb -x``) into
``.cache/libreswan`` and installs the libraries pluto links to. pluto checks at start that
``/usr/libexec/ipsec/addconn`` exists and forks it, so it runs in a private mount namespace
(``unshare --mount``) where the unpacked ``usr/libexec`` is bound on ``/usr/libexec``; nothing
outside that namespace sees the mount. Every other path is pluto's own option: config, run
directory (control socket, pid file), NSS database (made empty with ``certutil``), secrets,
ipsec.d, dump directory, log file; all in the pluto's directory.

:func:`start_pluto` runs it in a server namespace of an :class:`~tests.rig.charon.IkeLab` with
no charon; the lab's :meth:`~tests.rig.charon.IkeLab.close` stops it by its pid, then deletes
the namespaces.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.rig.charon import IkeLab
from tests.rig.netns import REPO, can_make_namespaces, run

#: where scripts/setup unpacks Debian's libreswan .deb (kept out of git)
TREE = REPO / ".cache" / "libreswan"
PLUTO = TREE / "usr" / "libexec" / "ipsec" / "pluto"
#: what pluto logs for each IKE_SA_INIT it redirects
REDIRECT_LOG = "responding to IKE_SA_INIT (34) message (Message ID 0) with unencrypted notification REDIRECT"


def have_pluto() -> str | None:
    """None when the unpacked pluto runs here and namespaces can be made, else why not."""
    reason = can_make_namespaces()
    if reason is not None:
        return reason
    if not PLUTO.exists():
        return (f"{PLUTO} is missing (scripts/setup, run as root, unpacks Debian's libreswan "
                ".deb there)")
    if shutil.which("certutil") is None:
        return "certutil is not installed (scripts/setup installs libnss3-tools)"
    missing = [line.split()[0] for line in run("ldd", str(PLUTO)).stdout.splitlines()
               if "not found" in line]
    if missing:
        return f"pluto's libraries are missing: {' '.join(missing)} (scripts/setup installs them)"
    return None


def version() -> str:
    """The unpacked libreswan's Debian version (written by scripts/setup)."""
    return (TREE / ".version").read_text().strip()


@dataclass(frozen=True)
class Pluto:
    """One pluto started by :func:`start_pluto`: its directory and log."""

    home: Path
    pid: int

    @property
    def log_path(self) -> Path:
        return self.home / "pluto.log"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"


def start_pluto(lab: IkeLab, index: int, redirect_to: str) -> Pluto:
    """Start pluto in server namespace ``index`` of ``lab`` (a server with no charon),
    redirecting every IKE_SA_INIT on every address of that namespace to ``redirect_to``.
    Returns once pluto listens on UDP 500 and 4500; ``lab.close()`` stops it."""
    name = lab.server(index)
    home = lab.workdir / f"{name}-pluto"
    for sub in ("run", "nss", "ipsec.d"):
        (home / sub).mkdir(parents=True)
    run("certutil", "-N", "-d", f"sql:{home / 'nss'}", "--empty-password")
    config = home / "ipsec.conf"
    config.write_text("config setup\n"
                      "\tglobal-redirect=yes\n"
                      f"\tglobal-redirect-to={redirect_to}\n"
                      "\tdnssec-enable=no\n")
    secrets = home / "ipsec.secrets"
    secrets.write_text("")
    argv = ["/usr/libexec/ipsec/pluto", "--nofork", "--config", str(config),
            "--logfile", str(home / "pluto.log"), "--rundir", str(home / "run"),
            "--nssdir", str(home / "nss"), "--secretsfile", str(secrets),
            "--ipsecdir", str(home / "ipsec.d"), "--dumpdir", str(home / "run")]
    proc = subprocess.Popen(
        ["ip", "netns", "exec", name, "unshare", "--mount", "--propagation", "private",
         "sh", "-c", f"mount --bind {TREE / 'usr' / 'libexec'} /usr/libexec && exec \"$@\"",
         "pluto", *argv],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    lab.services.append(proc)
    pluto = Pluto(home, proc.pid)
    deadline = time.monotonic() + 20
    # pluto logs "loading secrets" after it has bound every interface's UDP 500 and 4500
    while "loading secrets from" not in pluto.log():
        if proc.poll() is not None:
            assert proc.stderr is not None
            raise AssertionError(f"pluto in {name} exited ({proc.returncode}): "
                                 f"{proc.stderr.read().decode(errors='replace')[-2000:]} "
                                 f"{pluto.log()[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"pluto in {name} not listening after 20 s: {pluto.log()[-2000:]}")
        time.sleep(0.05)
    return pluto
