"""Who logged in, read from an OpenID Connect login: MitID Erhverv through a broker, or Entra ID for KMD's staff.

Pure functions over the ID token's claims (and the userinfo answer, where a broker puts its claims there):
no database, no HTTP. ordering/people.py decides what the person may do; ordering/login.py wires this
into django-allauth.

MitID Erhverv reaches a private service provider such as KMD through a certified MitID broker over
OpenID Connect (NemLog-in's own interface is SAML only). Each broker names its claims differently, so a
*claim preset* per broker maps them to one `LoginClaims`. A person is known by the persistent
professional UUID and the CVR number, never by e-mail (docs/login.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum

import jwt


class Assurance(IntEnum):
    """NSIS assurance levels (Lov om MitID og NemLog-in / eIDAS): low < substantial < high."""

    LOW = 1
    SUBSTANTIAL = 2
    HIGH = 3

    @classmethod
    def parse(cls, value: object) -> Assurance | None:
        """'Substantial', 'substantial', 'https://data.gov.dk/concept/core/nsis/loa/Substantial', 'betydelig' → SUBSTANTIAL."""
        if not isinstance(value, str) or not value.strip():
            return None
        word = re.split(r"[/#:]", value.strip())[-1].strip().lower()
        return _ASSURANCE_WORDS.get(word)


_ASSURANCE_WORDS = {
    "low": Assurance.LOW,
    "lav": Assurance.LOW,
    "substantial": Assurance.SUBSTANTIAL,
    "betydelig": Assurance.SUBSTANTIAL,
    "high": Assurance.HIGH,
    "høj": Assurance.HIGH,
}


@dataclass(frozen=True)
class LoginClaims:
    """What a MitID Erhverv login says about the person, whichever broker carried it."""

    issuer: str
    cvr: str
    uuid: str
    rid: str
    name: str
    email: str
    assurance: Assurance | None
    is_company_signatory: bool | None  # None: the broker does not say
    authenticated_at: datetime | None


@dataclass(frozen=True)
class StaffClaims:
    """What an Entra ID login says about a KMD employee."""

    issuer: str
    tenant: str
    object_id: str
    name: str
    email: str
    roles: frozenset[str]
    authenticated_at: datetime | None


@dataclass(frozen=True)
class ClaimPreset:
    """Where one broker puts each fact. Each field names a claim; '' where the broker has none."""

    cvr: str
    uuid: str
    rid: str
    name: str
    email: str
    assurance: str
    company_signatory: str = ""


# The brokers' own claim names (docs/login.md cites their documentation). Another broker: add a preset here
# and name it in MITID_CLAIM_PRESET, or override single claims with MITID_CLAIM_<FIELD> (config/settings.py).
CLAIM_PRESETS: dict[str, ClaimPreset] = {
    # Signaturgruppen (Nets eID Broker), scope "nemlogin".
    "signaturgruppen": ClaimPreset(
        cvr="nemlogin.cvr",
        uuid="nemlogin.persistent_professional_id",
        rid="nemlogin.nemid.rid",
        name="nemlogin.name",
        email="nemlogin.email",
        assurance="loa",
    ),
    # Idura (formerly Criipto) Verify, MitID Erhverv.
    "idura": ClaimPreset(
        cvr="cvrNumberIdentifier",
        uuid="uuid",
        rid="ridNumberIdentifier",
        name="name",
        email="email",
        assurance="loa",
        company_signatory="companySignatory",
    ),
}


@dataclass(frozen=True)
class Proof:
    """What a login proved, kept in the session for as long as it lasts: acceptances record it."""

    scheme: str
    issuer: str
    organisation: str  # CVR (MitID Erhverv) or tenant (Entra ID)
    person: str  # persistent professional UUID or object id
    assurance: str  # "low" | "substantial" | "high" | ""
    authenticated_at: str  # ISO 8601, UTC

    def as_session(self) -> dict:
        return self.__dict__.copy()


class ClaimsRefused(Exception):
    """A login whose claims cannot be used; `code` says which rule refused it (the security log's word)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


CVR = re.compile(r"\d{8}")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _text(claims: Mapping, name: str) -> str:
    if not name:
        return ""
    value = claims.get(name)
    return value.strip() if isinstance(value, str) else ""


def _flag(claims: Mapping, name: str) -> bool | None:
    if not name or name not in claims:
        return None
    value = claims[name]
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() == "true"


def _instant(value: object) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return None


def merged(id_token: Mapping, userinfo: Mapping | None) -> dict:
    """The ID token's claims with the userinfo answer's added; the ID token wins where both speak (it is signed)."""
    return {**(userinfo or {}), **id_token}


def mitid_claims(claims: Mapping, preset: ClaimPreset) -> LoginClaims:
    """The person behind a MitID Erhverv login; refuses a login without a CVR number or a persistent UUID."""
    cvr = _text(claims, preset.cvr)
    if not cvr:
        raise ClaimsRefused("no_cvr")
    if not CVR.fullmatch(cvr):
        raise ClaimsRefused("malformed_cvr")
    uuid = _text(claims, preset.uuid)
    # NemLog-in writes the UUID bare or as "urn:uuid:…"; some brokers braces: keep the UUID itself.
    found = UUID.search(uuid)
    if not found:
        raise ClaimsRefused("no_uuid")
    return LoginClaims(
        issuer=str(claims.get("iss", "")),
        cvr=cvr,
        uuid=found.group(0).lower(),
        rid=_text(claims, preset.rid),
        name=_text(claims, preset.name) or _text(claims, "name"),
        email=_text(claims, preset.email) or _text(claims, "email"),
        assurance=Assurance.parse(claims.get(preset.assurance)) if preset.assurance else None,
        is_company_signatory=_flag(claims, preset.company_signatory),
        authenticated_at=_instant(claims.get("auth_time")) or _instant(claims.get("iat")),
    )


def entra_claims(claims: Mapping) -> StaffClaims:
    """A KMD employee from Entra ID: tenant (`tid`) and object id (`oid`) are the key, app roles in `roles`."""
    tenant, object_id = _text(claims, "tid"), _text(claims, "oid")
    if not tenant or not object_id:
        raise ClaimsRefused("no_oid")
    roles = claims.get("roles") or []
    return StaffClaims(
        issuer=str(claims.get("iss", "")),
        tenant=tenant.lower(),
        object_id=object_id.lower(),
        name=_text(claims, "name"),
        email=_text(claims, "email") or _text(claims, "preferred_username"),
        roles=frozenset(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else frozenset(),
        authenticated_at=_instant(claims.get("auth_time")) or _instant(claims.get("iat")),
    )


class TokenRefused(Exception):
    """An ID token that fails a check of OpenID Connect Core 3.1.3.7; `code` names which."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def verify_id_token(token: str, *, jwks: Mapping, issuer: str, audience: str, leeway: int = 60) -> dict:
    """The ID token's claims once its signature, issuer, audience and times hold; `TokenRefused` otherwise.

    The signature is always checked, also when the token came straight from the token endpoint over TLS
    (which the specification would allow to skip): a login binds a signatory's acceptance, so its proof
    must be the provider's signature. A token without `kid` is tried against each key of the set.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise TokenRefused("malformed") from error
    algorithm = header.get("alg")
    if algorithm not in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"):
        raise TokenRefused("algorithm")  # never "none", never a shared-secret HMAC
    keys = [k for k in jwks.get("keys", []) if isinstance(k, Mapping) and k.get("use", "sig") == "sig"]
    if header.get("kid"):
        keys = [k for k in keys if k.get("kid") == header["kid"]]
    if not keys:
        raise TokenRefused("unknown_key")
    last: Exception | None = None
    for key in keys:
        try:
            public_key = jwt.PyJWK.from_json(json.dumps({**key, "alg": key.get("alg", algorithm)})).key
            return jwt.decode(
                token,
                key=public_key,
                algorithms=[algorithm],
                audience=audience,
                issuer=issuer,
                leeway=leeway,
                # `iat` in the future and `nbf` are refused as not yet valid, `exp` in the past as expired.
                options={"require": ["iss", "aud", "exp", "iat", "sub"], "verify_nbf": True, "verify_iat": True},
            )
        except jwt.InvalidSignatureError as error:
            last = error
            continue
        except jwt.ExpiredSignatureError as error:
            raise TokenRefused("expired") from error
        except jwt.ImmatureSignatureError as error:
            raise TokenRefused("not_yet_valid") from error
        except jwt.InvalidAudienceError as error:
            raise TokenRefused("audience") from error
        except jwt.InvalidIssuerError as error:
            raise TokenRefused("issuer") from error
        except jwt.PyJWTError as error:
            raise TokenRefused("invalid") from error
    raise TokenRefused("signature") from last
