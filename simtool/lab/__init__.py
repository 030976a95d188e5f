"""Try simtool without hardware: a virtual PC/SC reader (pcscd + vpcd in private namespaces)
holding a simulated UICC with an ARA-M (``simtool lab start``). The same rig runs the tests.

Modules: ``rig`` (pcscd, vpcd and card processes), ``vcard`` (the simulated card),
``daemon`` (the long-running lab process), ``control`` (``simtool lab`` talking to it).
"""
