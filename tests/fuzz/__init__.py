"""Mutation fuzzing of the readers that take hostile bytes: the APK reader, the keystore readers
and the ARA-M BER-TLV parser (``targets.py``), seeded with real files and issue 9's hostile
inputs (``tests/apk/hostile_inputs.py``), mutated by ``mutate.py``.

In the suite (``tests/test_fuzz_targets.py``) each target runs a few hundred inputs; for a long
run::

    python -m tests.fuzz apk --seconds 3600          # or keystore, tlv, all
    python -m tests.fuzz all --seconds 600 --crashes /tmp/fuzz-crashes

A target may raise only the project's own error types (one-line ``SimtoolError``); anything
else — a traceback-worthy exception, a MemoryError under the long run's address-space limit —
is a finding: its input is written to ``--crashes`` and the run exits 1.
"""
