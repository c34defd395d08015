"""The demo's people as the local demo identity provider presents them (`make run`; docs/login.md).

One list serves both sides: `manage.py demo_identity_provider` hands these claims out at its login page, and
`seed_demo` records the same identities on the demo users, so that "Log ind med MitID Erhverv" as Bente
Bestiller lands on the demo's `bestiller`. The claim names are Signaturgruppen's (MITID_CLAIM_PRESET's
default) and Entra ID's; the UUIDs and object ids are made up, the same on every machine.
"""

import uuid

DEMO_NAMESPACE = uuid.UUID("6f1f0c3e-6c8e-4d0c-9d5e-0a1b2c3d4e5f")
DEMO_TENANT = "7e5a1d2c-0000-4000-8000-00000000d3a0"
MITID_PORT, ENTRA_PORT = 8001, 8002
CLIENT_ID, CLIENT_SECRET = "opus-adgang-demo", "demo-secret-for-the-local-demo-provider-only"  # noqa: S105

# username (seed_demo's USERS), CVR of the customer they log in for
MITID_PEOPLE = [
    ("bestiller", "55133018"),
    ("tegner", "55133018"),
    ("bestiller.odense", "35209115"),
    ("tegner.odense", "35209115"),
    ("bestiller.region", "29190925"),
    ("nanna.nyansat", "55133018"),  # logged in, no role yet: waits for Aarhus's user administrator
]
# username, Entra ID app roles (settings.ENTRA_ROLE_* defaults)
KMD_PEOPLE = [
    ("kundeansvarlig", ["OpusAdgang.Kundeansvarlig"]),
    ("kundeansvarlig2", ["OpusAdgang.Kundeansvarlig"]),
    ("support", ["OpusAdgang.Support"]),
    ("admin", ["OpusAdgang.Katalogadministrator"]),
]


def person_id(username: str) -> str:
    return str(uuid.uuid5(DEMO_NAMESPACE, username))


def mitid_claims(username: str, cvr: str, name: str, email: str) -> dict:
    return {
        "nemlogin.cvr": cvr,
        "nemlogin.persistent_professional_id": person_id(username),
        "nemlogin.nemid.rid": str(uuid.uuid5(DEMO_NAMESPACE, f"rid:{username}").int % 10**8),
        "nemlogin.name": name,
        "nemlogin.email": email,
        "loa": "https://data.gov.dk/concept/core/nsis/loa/Substantial",
    }


def entra_claims(username: str, roles: list[str], name: str, email: str) -> dict:
    return {"tid": DEMO_TENANT, "oid": person_id(username), "roles": roles, "name": name, "email": email}
