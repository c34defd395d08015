"""A certificate signing request: what a user uploads by mistake instead of the certificate it asks for."""

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from certificates.testing import rsa_key


def csr_pem(common_name: str = "Fraværsoverblik") -> bytes:
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(rsa_key(2048, 9), hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM)
