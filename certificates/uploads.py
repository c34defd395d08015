"""The certificate upload's handler: the shared one (core/uploads.py), capped at a certificate chain's limit."""

from core.uploads import CappedMemoryUploadHandler as _Capped

from .validation import MAX_UPLOAD_BYTES


class CappedMemoryUploadHandler(_Capped):
    """Holds at most MAX_UPLOAD_BYTES + 1 bytes of the chain in memory, so the validator names the real size."""

    cap = MAX_UPLOAD_BYTES
