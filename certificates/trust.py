"""Trust anchors per environment, read from the directories named in settings."""

from functools import lru_cache
from pathlib import Path

from django.conf import settings

from .validation import TrustAnchors


def trust_for(environment: str) -> TrustAnchors:
    directories = tuple(str(d) for d in settings.CERTIFICATE_TRUST_DIRS.get(environment, ()))
    return _load(environment, directories)


@lru_cache(maxsize=16)
def _load(environment: str, directories: tuple[str, ...]) -> TrustAnchors:
    blobs = []
    for directory in directories:
        path = Path(directory)
        if path.is_dir():
            blobs += [p.read_bytes() for p in sorted(path.glob("*.pem"))]
    return TrustAnchors.from_pem_files(environment, blobs)
