"""Test-only C2PA credentials: a throwaway CA and an ES256 leaf certificate signed by it.

c2pa refuses a self-signed signing certificate, and it checks the leaf's profile (C2PA 2.x
"X.509 certificate profile"): not a CA, ``digitalSignature`` key usage (critical), an extended
key usage c2pa accepts (``emailProtection`` here), an Authority Key Identifier and an
organisation (``O=``) in the subject. The chain handed to the signer is leaf first, then CA.

Needs ``cryptography`` (a dependency of c2pa-python). Nothing here is a secret: the keys are
made fresh for every test session and never leave the temporary directory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class SigningCredentials:
    """PEM material for signing: ``chain_pem`` (leaf + CA), ``key_pem`` (leaf key, PKCS#8)."""

    chain_pem: bytes
    key_pem: bytes
    ca_pem: bytes
    leaf_pem: bytes


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "aicraft tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_test_credentials(days: int = 30) -> SigningCredentials:
    """A new P-256 CA and a leaf fit for C2PA ES256 signing, valid from an hour ago."""
    now = dt.datetime.now(dt.UTC)
    not_before, not_after = now - dt.timedelta(hours=1), now + dt.timedelta(days=days)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("aicraft test CA")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("aicraft test signer"))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    leaf_pem = leaf_cert.public_bytes(pem)
    ca_pem = ca_cert.public_bytes(pem)
    key_pem = leaf_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return SigningCredentials(
        chain_pem=leaf_pem + ca_pem, key_pem=key_pem, ca_pem=ca_pem, leaf_pem=leaf_pem
    )


#: The claim generator of :func:`provider_signer`'s manifests (a stand-in for OpenAI's).
PROVIDER_CLAIM_GENERATOR = "fake-openai-images"


def provider_signer(credentials: SigningCredentials) -> Callable[[bytes], bytes]:
    """A function that signs a PNG the way an image provider does (OpenAI adds a C2PA
    manifest to its images): ``c2pa.created`` from ``trainedAlgorithmicMedia``, claimed by
    :data:`PROVIDER_CLAIM_GENERATOR`. Needs c2pa-python."""
    import io

    import c2pa

    manifest = {
        "claim_generator_info": [{"name": PROVIDER_CLAIM_GENERATOR, "version": "1.0"}],
        "title": "image.png",
        "format": "image/png",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": "http://cv.iptc.org/newscodes/"
                            "digitalsourcetype/trainedAlgorithmicMedia",
                        }
                    ]
                },
            }
        ],
    }
    settings = {
        "builder": {"thumbnail": {"enabled": False}},
        "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
    }

    def sign(png: bytes) -> bytes:
        info = c2pa.C2paSignerInfo(
            c2pa.C2paSigningAlg.ES256, credentials.chain_pem, credentials.key_pem, None
        )
        with (
            c2pa.Signer.from_info(info) as signer,
            c2pa.Context.from_dict(settings) as context,
            c2pa.Builder(manifest, context=context) as builder,
        ):
            out = io.BytesIO()
            builder.sign(signer, "image/png", io.BytesIO(png), out)
        return out.getvalue()

    return sign
