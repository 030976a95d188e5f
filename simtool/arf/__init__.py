"""Access Rule Files (GlobalPlatform SEAC on PKCS#15): Android's fallback when a card has no ARA-M.

Layers, lowest first: ``files`` (the file formats: parse/encode pairs, pure), ``android``
(what Android's ``UiccPkcs15`` makes of the bytes it reads, pure), ``reader`` (both ways of
reading a card), ``writer`` (UPDATE BINARY in place, verified). ``docs/simtool-arf.md``.
"""
