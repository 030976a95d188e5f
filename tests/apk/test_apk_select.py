"""Pure logic of simtool.apk.select: which certificates Android checks per SDK range, and the
single SIM hash that matches on all of them (hand-made certificates: no I/O involved)."""

from __future__ import annotations

from simtool.apk.certs import CertDigests
from simtool.apk.report import SDK_MAX, SdkCertificates
from simtool.apk.select import SchemeSigners, carrier_certificates, recommend


def cert(name: str) -> CertDigests:
    return CertDigests(f"CN={name}", name * 40, name * 64, name * 32)


A, B, C = cert("a"), cert("b"), cert("c")


def test_rotation_original_key_matches_everywhere() -> None:
    """v1/v2 signed by A, v3 signed by C with lineage A→B→C: A is checked on every version."""
    schemes = [SchemeSigners("v1", ((1, SDK_MAX, (A,)),)),
               SchemeSigners("v2", ((24, SDK_MAX, (A,)),)),
               SchemeSigners("v3", ((28, SDK_MAX, (A, B, C)),))]
    ranges = carrier_certificates(21, SDK_MAX, schemes)
    assert ranges == (SdkCertificates(21, 27, (A,)), SdkCertificates(28, SDK_MAX, (A, B, C)))
    assert recommend(ranges, (A, B, C)) == A


def test_v31_adds_history_only_from_33() -> None:
    schemes = [SchemeSigners("v2", ((24, SDK_MAX, (A,)),)),
               SchemeSigners("v3", ((24, 32, (A,)),)),
               SchemeSigners("v3.1", ((33, SDK_MAX, (A, B)),))]
    ranges = carrier_certificates(24, SDK_MAX, schemes)
    assert ranges == (SdkCertificates(24, 32, (A,)), SdkCertificates(33, SDK_MAX, (A, B)))
    assert recommend(ranges, (A, B)) == A


def test_no_common_certificate_means_no_recommendation() -> None:
    """Two v2 signers, then a v3 signer with no lineage: nothing is checked on every version."""
    schemes = [SchemeSigners("v2", ((24, SDK_MAX, (A,)), (24, SDK_MAX, (B,)))),
               SchemeSigners("v3", ((28, SDK_MAX, (C,)),))]
    ranges = carrier_certificates(24, SDK_MAX, schemes)
    assert ranges == (SdkCertificates(24, 27, (A, B)), SdkCertificates(28, SDK_MAX, (C,)))
    assert recommend(ranges, ()) is None


def test_ranges_where_the_apk_cannot_install_are_left_out() -> None:
    """A v3-only APK verified from API 24 has nothing Android reads on 24-27."""
    ranges = carrier_certificates(24, SDK_MAX, [SchemeSigners("v3", ((28, SDK_MAX, (A,)),))])
    assert ranges == (SdkCertificates(28, SDK_MAX, (A,)),)
    assert recommend(ranges, ()) == A


def test_max_sdk_clips_the_ranges() -> None:
    schemes = [SchemeSigners("v1", ((1, SDK_MAX, (A,)),)),
               SchemeSigners("v3", ((28, SDK_MAX, (B,)),))]
    assert carrier_certificates(19, 27, schemes) == (SdkCertificates(19, 27, (A,)),)


def test_jar_algorithm_api_levels() -> None:
    """Which API levels can verify a JAR SignerInfo's digest + signature OID pair."""
    from simtool.apk.pkcs7 import SignerInfo, unsupported_api_levels

    def info(digest: str, oid: str) -> SignerInfo:
        return SignerInfo(b"", "", 1, digest, "", oid, None, None, None, b"")

    ec_key, sha256_rsa, rsa_key = "1.2.840.10045.2.1", "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.1"
    assert unsupported_api_levels(info("sha256", ec_key), 10, 30) == [(10, 17)]
    assert unsupported_api_levels(info("sha256", sha256_rsa), 1, 30) == [(9, 17)]
    assert unsupported_api_levels(info("sha1", rsa_key), 1, SDK_MAX) == []
    assert unsupported_api_levels(info("sha1", sha256_rsa), 18, 30) == [(18, 20), (24, 30)]
