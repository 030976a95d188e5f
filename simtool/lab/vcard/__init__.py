"""A simulated UICC holding an ARA-M, spoken to through vpcd: `python -m simtool.lab.vcard`.

Modules: `link` (vpcd socket protocol), `apdu` (command framing, CLA, status words), `tlv`
(BER-TLV), `profiles` (ATRs and quirks), `state` (persisted memory), `context` (card-wide
state), `card` (card OS: T=0, channels, SELECT, files, VERIFY), `aram_spec` (GP SEAC ARA-M),
`aram_applet` (the open-source aram-applet, bug for bug).
"""
