"""Suite-wide settings.

Hypothesis: the suite runs on small shared machines (2 cores, CI and other jobs beside it), so
example generation can be slow for reasons unrelated to the code under test. Deadlines and the
too-slow health check are turned off; every property still runs its full number of examples.
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "carrierkit",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("carrierkit")
