"""Card access in three layers: transport (pyscard, nothing else imports it), protocol (APDUs,
T=0 chaining, logical channels, status words) and small card-wide services (ICCID, ADM)."""
