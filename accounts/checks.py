"""`manage.py check`: the login settings say something that works; `--deploy`: nothing weakens them in production."""

from datetime import timedelta

from axes.helpers import get_cool_off
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from .oidc import CLAIM_PRESETS, Assurance

PASSWORD_LOGIN_VALUES = {"all", "break-glass"}
# NIST SP 800-63B 5.2.2: no more than 100 consecutive failed attempts on one account. A limit above it lets a
# password be guessed as if there were no lockout at all.
MOST_FAILURES_BEFORE_LOCKOUT = 100


@register(Tags.security)
def login_settings(app_configs, **kwargs) -> list[Error]:
    problems = []
    if settings.PASSWORD_LOGIN not in PASSWORD_LOGIN_VALUES:
        problems.append(
            Error(f"PASSWORD_LOGIN={settings.PASSWORD_LOGIN!r}", hint="Say break-glass or all.", id="accounts.E001")
        )
    if Assurance.parse(settings.MITID_MIN_ASSURANCE) is None:
        problems.append(
            Error(
                f"MITID_MIN_ASSURANCE={settings.MITID_MIN_ASSURANCE!r}",
                hint="Say low, substantial or high.",
                id="accounts.E002",
            )
        )
    if settings.MITID_CLAIM_PRESET not in CLAIM_PRESETS:
        problems.append(
            Error(
                f"MITID_CLAIM_PRESET={settings.MITID_CLAIM_PRESET!r} names no claim preset",
                hint=f"Say one of {', '.join(sorted(CLAIM_PRESETS))}, or add a preset (docs/login.md).",
                id="accounts.E003",
            )
        )
    return problems


@register(Tags.security, deploy=True)
def login_in_production(app_configs, **kwargs) -> list[Warning]:
    problems = []
    if settings.PASSWORD_LOGIN == "all":  # noqa: S105  (a setting's value, not a password)
        problems.append(
            Warning(
                "PASSWORD_LOGIN=all lets every user log in with a password in production, and lets a password login "
                "accept an addendum without MitID Erhverv.",
                hint="Leave it unset (break-glass): customers use MitID Erhverv, KMD's staff Entra ID (docs/login.md).",
                id="accounts.W001",
            )
        )
    if not settings.MITID_OIDC_CLIENT_ID:
        problems.append(
            Warning(
                "No MitID Erhverv login: MITID_OIDC_SERVER_URL and MITID_OIDC_CLIENT_ID are not set.",
                hint="Customers can then only log in with passwords, which production allows KMD's emergency "
                "accounts only (docs/login.md).",
                id="accounts.W002",
            )
        )
    if Assurance.parse(settings.MITID_MIN_ASSURANCE) == Assurance.LOW:
        problems.append(
            Warning(
                "MITID_MIN_ASSURANCE=low admits logins below NSIS substantial, also for accepting addenda.",
                hint="Leave it unset (substantial) unless KMD has decided otherwise.",
                id="accounts.W003",
            )
        )
    problems += _lockout_in_production()
    return problems


def _lockout_in_production() -> list[Warning]:
    problems = []
    cool_off = get_cool_off()
    if not getattr(settings, "AXES_ENABLED", True):
        off = "AXES_ENABLED is false"
    elif cool_off is not None and cool_off < timedelta(minutes=1):  # LOGIN_LOCKOUT_MINUTES counts whole minutes
        off = f"LOGIN_LOCKOUT_MINUTES is {cool_off.total_seconds() / 60:g}: a lockout ends as it begins"
    else:
        off = ""
    if off:
        problems.append(
            Warning(
                f"The login lockout is switched off ({off}), so the passwords that remain (KMD's break-glass "
                "accounts) can be guessed without limit.",
                hint="Remove AXES_ENABLED from the settings, and leave LOGIN_LOCKOUT_MINUTES unset (15) or at least 1.",
                id="accounts.W004",
            )
        )
    for name, limit in (
        ("LOGIN_FAILURE_LIMIT", settings.AXES_FAILURE_LIMIT),
        ("LOGIN_ADDRESS_FAILURE_LIMIT", settings.LOGIN_ADDRESS_FAILURE_LIMIT),
    ):
        if limit > MOST_FAILURES_BEFORE_LOCKOUT:
            problems.append(
                Warning(
                    f"{name}={limit} lets {limit} passwords be tried before the lockout, more than the "
                    f"{MOST_FAILURES_BEFORE_LOCKOUT} NIST SP 800-63B allows: the lockout is switched off in effect.",
                    hint=f"Leave {name} unset, or set it to {MOST_FAILURES_BEFORE_LOCKOUT} or less (README.md, Lockout).",
                    id="accounts.W005",
                )
            )
    return problems
