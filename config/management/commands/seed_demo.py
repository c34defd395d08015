"""Demo data: catalogue, three customers with different contracts, one user per role, orders in every state.

Idempotent: catalogue rows are matched by code/CVR/username; orders are made only for customers
that have none yet, through the lifecycle services, so the audit trail is genuine.
"""

import datetime
import logging
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core import mail
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import LoginIdentity, User
from billing.models import InterfacePrice, PackagePrice, PriceList
from billing.services import billing_run, consulting_record
from certificates import trust
from certificates.services import certificate_upload
from certificates.testing import make_leaf, make_pki, pem, zip_bytes
from config import demo_identities
from ordering import consulting, documents, services, thread
from ordering.clarifications import access_clarification_record
from ordering.models import (
    AccessOrder,
    ConsultingRequest,
    ContractInterface,
    Customer,
    CustomerMembership,
    ExternalSystem,
    IntegrationPackage,
    Interface,
    MainContract,
    Vendor,
)
from ordering.validators import gs1_check_digit

DEMO_PASSWORD = "opus-demo-2026"
CONSOLE_EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
LOCMEM_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

WEB_SERVICES = [
    (
        "opret-fravaer",
        "Opret fravær",
        "Create absence",
        "Oprette, ændre og slette fravær af forskellige arter. Hente information til brug for indberetning af fravær, "
        "f.eks. medarbejdernes relaterede barsels- og arbejdsskadesager samt børn.",
        "Create, change and delete absence of various kinds; read related maternity and work-injury cases and children.",
        "Fraværsoplysninger (art, periode, årsagskode)\nBarselsoplysninger\nOplysninger om børn",
    ),
    (
        "hent-fravaerskvoter",
        "Hent fraværskvoter",
        "Read absence quotas",
        "Hente information om fraværskvoter, f.eks. omsorgsdage, og detaljer om optjening og anvendelse.",
        "Read absence quotas such as care days, and how they are earned and used.",
        "Fraværskvoter og saldi",
    ),
    (
        "moedetidsplaner",
        "Mødetidsplaner",
        "Working-time schedules",
        "Oprette, læse, slette og ændre mødetidsplaner (medarbejderens forventede arbejdstid).",
        "Create, read, change and delete working-time schedules (expected working hours).",
        "Arbejdstid\nAnsættelsesoplysninger",
    ),
    (
        "upload-personalemappe",
        "Upload af dokumenter i personalemappen",
        "Upload documents to the personnel file",
        "Uploade dokumenter til en medarbejders personalemappe.",
        "Upload documents into an employee's personnel file.",
        "Ansøgning og CV\nEksamens- og uddannelsesbeviser\nAnsættelseskontrakt og ansættelsesbrev\nReferencer",
    ),
    (
        "medarbejderoplysninger",
        "Medarbejderoplysninger",
        "Employee data",
        "Hente en bred vifte af medarbejderdata som personlige data, arbejdstid, kommunikationsdata, skattedata, "
        "pensionsordninger m.m.",
        "Read employee data: personal data, working time, contact data, tax data, pension schemes and more.",
        "Identifikationsoplysninger (navn, medarbejdernummer)\nKontaktoplysninger\nArbejdstid og ansættelse\nSkatteoplysninger\nPensionsforhold",
    ),
    (
        "engangsydelser",
        "Engangsydelser",
        "One-off payments",
        "Registrere og læse engangsydelser på en medarbejder, f.eks. kantinetræk og vikartimer.",
        "Register and read one-off payments for an employee, e.g. canteen deductions and substitute hours.",
        "Løn- og ydelsesoplysninger",
    ),
    (
        "faste-tillaeg",
        "Faste tillæg",
        "Fixed supplements",
        "Registrere faste tillæg på en medarbejder.",
        "Register fixed supplements for an employee.",
        "Løn- og tillægsoplysninger",
    ),
]

# What the addendum flags per interface: special categories of personal data (GDPR art. 9) and CPR numbers
# (Danish Data Protection Act § 11). Demo values, like the categories above: catalogue data KMD maintains.
INTERFACE_FLAGS = {
    "opret-fravaer": ("Helbredsoplysninger: sygefravær, graviditetsrelateret fravær og arbejdsskadesager", True),
    "hent-fravaerskvoter": ("", True),
    "moedetidsplaner": ("", False),
    "upload-personalemappe": ("", True),
    "medarbejderoplysninger": ("", True),
    "engangsydelser": ("", True),
    "faste-tillaeg": ("", True),
}

# File interface -> the web service replacing it. IND01 -> Engangsydelser is from KMD's own material;
# the others are plausible defaults that a catalogue admin can change.
FILE_INTERFACES = [
    ("ind01", "IND01", "engangsydelser"),
    ("ind02", "IND02", "faste-tillaeg"),
    ("ferie", "FERIE", "opret-fravaer"),
    ("fravaer", "FRAVÆR", "opret-fravaer"),
]

VENDORS = [
    ("31415926", "Nordisk Vagtplan A/S", "kontakt@vagtplan.example"),
    ("27182801", "Kantinedata ApS", "support@kantinedata.example"),
    ("16180335", "Talent Rekruttering A/S", "integration@talent.example"),
    ("14142134", "Tidsdata A/S", "drift@tidsdata.example"),
    ("17320505", "Dagtilbud Systemer ApS", "kunde@dagtilbud.example"),
    ("22360671", "Skolesystemer A/S", "support@skolesystemer.example"),
    ("26457513", "Lokal IT ApS", "it@lokal-it.example"),
]

SYSTEMS = [
    (
        "VagtPlan Online",
        "31415926",
        "rostering",
        True,
        ["opret-fravaer", "hent-fravaerskvoter", "moedetidsplaner", "medarbejderoplysninger"],
    ),
    ("KantineKort", "27182801", "canteen", True, ["engangsydelser"]),
    ("RekrutOnline", "16180335", "recruitment", True, ["upload-personalemappe", "medarbejderoplysninger"]),
    ("TidReg", "14142134", "time_registration", True, ["opret-fravaer", "engangsydelser"]),
    ("Børneplan", "17320505", "daycare", True, ["medarbejderoplysninger", "opret-fravaer", "hent-fravaerskvoter"]),
    ("SkoleVikar", "22360671", "school", True, ["medarbejderoplysninger", "engangsydelser"]),
]

PACKAGES = [
    (
        "vagtplanpakke",
        "Vagtplanpakke",
        "Rostering package",
        "VagtPlan Online",
        ["opret-fravaer", "hent-fravaerskvoter", "moedetidsplaner", "medarbejderoplysninger"],
    ),
    (
        "dagtilbudspakke",
        "Dagtilbudspakke",
        "Day-care package",
        "Børneplan",
        ["medarbejderoplysninger", "opret-fravaer", "hent-fravaerskvoter"],
    ),
]

# username, first name, last name, e-mail, title
USERS = {
    "kundeansvarlig": ("Karen", "Kundeansvarlig", "karen.kundeansvarlig@kmd.example", "Salgs- og kundeansvarlig"),
    "kundeansvarlig2": ("Kasper", "Kundeansvarlig", "kasper.kundeansvarlig@kmd.example", "Salgs- og kundeansvarlig"),
    "support": ("Sofie", "Support", "sofie.support@kmd.example", "KMD Opus Personale support"),
    "admin": ("Adam", "Administrator", "adam.admin@kmd.example", "Katalogadministrator"),
    "bestiller": ("Bente", "Bestiller", "bente.bestiller@aarhus.example", "HR-konsulent"),
    "tegner": ("Torben", "Tegner", "torben.tegner@aarhus.example", "HR-chef"),
    "bestiller.odense": ("Ole", "Bestiller", "ole.bestiller@odense.example", "Lønkonsulent"),
    "tegner.odense": ("Tove", "Tegner", "tove.tegner@odense.example", "Direktør"),
    "bestiller.region": ("Rikke", "Bestiller", "rikke.bestiller@rm.example", "IT-koordinator"),
    "nanna.nyansat": ("Nanna", "Nyansat", "nanna.nyansat@aarhus.example", "Lønkonsulent"),
}

# What the addendum states as the purpose of the processing and the categories of data subjects,
# per interface: catalogue data KMD maintains in the admin.
EMPLOYEES = "Kundens medarbejdere\nKundens tidligere medarbejdere"
INTERFACE_PROCESSING = {
    "opret-fravaer": (
        "Indberetning af medarbejdernes fravær og ferie fra det eksterne system, så lønnen beregnes korrekt, og "
        "refusioner kan hjemtages.",
        EMPLOYEES + "\nMedarbejdernes børn (ved fravær, der vedrører barn)",
    ),
    "hent-fravaerskvoter": (
        "Visning af medarbejdernes fraværskvoter, f.eks. omsorgsdage og ferie, i det eksterne system, så lederen "
        "har overblik over de tilgængelige kvoter.",
        EMPLOYEES,
    ),
    "moedetidsplaner": (
        "Planlægning af medarbejdernes arbejdstid: mødetidsplaner udveksles mellem det eksterne system og KMD Opus "
        "Personale.",
        EMPLOYEES,
    ),
    "upload-personalemappe": (
        "Dokumentation af ansættelsesforholdet: dokumenter fra det eksterne system, f.eks. fra en "
        "rekrutteringsproces, lægges i medarbejderens personalemappe.",
        EMPLOYEES + "\nAnsøgere, der ansættes (dokumenter fra rekrutteringsforløbet)",
    ),
    "medarbejderoplysninger": (
        "Brug af aktuelle ansættelses- og medarbejderoplysninger i det eksterne system, f.eks. til planlægning af "
        "arbejdstid og vikarer.",
        EMPLOYEES + "\nVikarer",
    ),
    "engangsydelser": (
        "Overførsel af engangsydelser og træk, f.eks. kantinetræk og vikartimer, fra det eksterne system til "
        "lønberegningen i KMD Opus Personale.",
        EMPLOYEES + "\nVikarer",
    ),
    "faste-tillaeg": (
        "Registrering af faste tillæg fra det eksterne system til lønberegningen i KMD Opus Personale.",
        EMPLOYEES,
    ),
}
# Region Midtjylland's contract has no registered date: its addenda say so instead of inventing one.
CONTRACT_SIGNED_ON = {"OPUS-HA-2019-014": datetime.date(2019, 3, 1), "OPUS-UDB-2021-007": datetime.date(2021, 9, 15)}
# The data-processing agreement each addendum names and yields to (reference, date); the region's has no date.
DATA_PROCESSING_AGREEMENTS = {
    "OPUS-HA-2019-014": ("DBA-2019-014, version 2", datetime.date(2019, 3, 1)),
    "OPUS-UDB-2021-007": ("DBA-2021-007, version 1", datetime.date(2021, 9, 15)),
    "OPUS-HA-2022-031": ("DBA-2022-031, version 1", None),
}
# Odense's test environment holds fictitious data only; the others' are copies of production (the default).
FICTITIOUS_TEST_DATA = {"OPUS-UDB-2021-007"}

CUSTOMERS = [
    # name, CVR, EAN without check digit, account manager, contract reference, terms, included interfaces
    (
        "Aarhus Kommune",
        "55133018",
        "579800013700",
        "kundeansvarlig",
        "OPUS-HA-2019-014",
        "standard",
        [
            ("opret-fravaer", "all", []),
            ("medarbejderoplysninger", "all", []),
            ("engangsydelser", "named", ["KantineKort"]),
        ],
    ),
    (
        "Odense Kommune",
        "35209115",
        "579800016450",
        "kundeansvarlig",
        "OPUS-UDB-2021-007",
        "tender",
        [("hent-fravaerskvoter", "named", ["Børneplan"]), ("moedetidsplaner", "all", [])],
    ),
    (
        "Region Midtjylland",
        "29190925",
        "579800020130",
        "kundeansvarlig2",
        "OPUS-HA-2022-031",
        "standard",
        [("engangsydelser", "named", ["KantineKort"])],
    ),
]

# Example prices (DKK excl. VAT), clearly marked as examples: not KMD's price list.
# interface code: (licence start fee, monthly fee, additional-system fee)
DEMO_INTERFACE_PRICES = {
    "opret-fravaer": ("15000.00", "1250.00", "5000.00"),
    "hent-fravaerskvoter": ("12000.00", "950.00", "4000.00"),
    "moedetidsplaner": ("12000.00", "950.00", "4000.00"),
    "upload-personalemappe": ("10000.00", "850.00", "3500.00"),
    "medarbejderoplysninger": ("20000.00", "1800.00", "6500.00"),
    "engangsydelser": ("15000.00", "1250.00", "5000.00"),
    "faste-tillaeg": ("12000.00", "950.00", "4000.00"),
}
DEMO_PACKAGE_PRICES = {"vagtplanpakke": "3900.00", "dagtilbudspakke": "3200.00"}

# username, CVR, orderer, signatory, user administrator. Odense has no user administrator yet: its people see
# that KMD's account manager appoints the first one. Aarhus's "nanna.nyansat" has logged in and waits for a role.
MEMBERSHIPS = [
    ("bestiller", "55133018", True, False, False),
    ("tegner", "55133018", False, True, True),
    ("bestiller.odense", "35209115", True, False, False),
    ("tegner.odense", "35209115", False, True, False),
    ("bestiller.region", "29190925", True, True, True),
]


class Command(BaseCommand):
    help = (
        "Load demo data (idempotent). Creates users with a published password: never in production. "
        "Quiet by default; -v 2 prints the e-mails it causes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even when DJANGO_DEBUG is off.")

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates users with a published password. Run it with DJANGO_DEBUG=1, "
                "or pass --force if this really is a demo or test database."
            )
        if not settings.DEBUG and documents.support_contact_unset():
            # Outside DEBUG no addendum is issued with support's placeholder contact (ordering/services/transitions.py).
            raise CommandError("The demo issues addenda: set SUPPORT_PHONE and SUPPORT_EMAIL first (README.md).")
        if options.get("verbosity", 1) >= 2 or settings.EMAIL_BACKEND != CONSOLE_EMAIL_BACKEND:
            self._seed()
        else:
            self._seed_quietly()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Every demo user's password is “{DEMO_PASSWORD}”."))

    def _seed_quietly(self) -> None:
        # Without a broker Celery runs the e-mail tasks in this process, and the console backend would print
        # every e-mail the demo's orders cause (thousands of lines of MIME) before `make run` reaches its
        # server line. Quiet by default: they are kept in memory and counted; -v 2 prints them.
        already = len(getattr(mail, "outbox", []))
        trace = logging.getLogger("celery.app.trace")
        level = trace.level
        trace.setLevel(logging.WARNING)  # one "Task ... succeeded" line per e-mail and document otherwise
        try:
            with override_settings(EMAIL_BACKEND=LOCMEM_EMAIL_BACKEND):
                self._seed()
        finally:
            trace.setLevel(level)
        sent = len(getattr(mail, "outbox", [])) - already
        if sent:
            self.stdout.write(f"{sent} e-mails sent while seeding were not printed (seed_demo -v 2 prints them).")

    def _seed(self) -> None:
        with transaction.atomic():
            users = self._users()
            interfaces = self._interfaces()
            systems = self._catalogue(interfaces)
            customers = self._customers(users, interfaces, systems)
            self._price_list(interfaces)
        new = [c for c in customers.values() if not c.orders.exists()]
        for customer in new:
            self._orders(customer, users, interfaces, systems)
        if new:
            # Bill the two months before this one, so invoices and runs have something to show.
            this_month = timezone.localdate().replace(day=1)
            for months_back in (2, 1):
                period = this_month
                for _ in range(months_back):
                    period = (period - datetime.timedelta(days=1)).replace(day=1)
                billing_run(period=period)

    def _users(self) -> dict[str, User]:
        users = {}
        for username, (first, last, email, title) in USERS.items():
            user, created = User.objects.get_or_create(username=username)
            user.first_name, user.last_name, user.email, user.title = first, last, email, title
            user.is_staff = username in ("kundeansvarlig", "kundeansvarlig2", "support", "admin")
            user.is_support = username == "support"
            user.is_superuser = username == "admin"
            if created:
                user.set_password(DEMO_PASSWORD)
            user.save()
            users[username] = user
        return users

    def _login_identities(self, users) -> None:
        """The demo people as the demo identity provider knows them (config/demo_identities.py), so that its
        MitID Erhverv and Entra ID logins land on these users."""
        for username, cvr in demo_identities.MITID_PEOPLE:
            LoginIdentity.objects.update_or_create(
                scheme=LoginIdentity.Scheme.MITID_ERHVERV,
                organisation=cvr,
                person=demo_identities.person_id(username),
                defaults={"user": users[username], "issuer": f"http://localhost:{demo_identities.MITID_PORT}"},
            )
        for username, _roles in demo_identities.KMD_PEOPLE:
            LoginIdentity.objects.update_or_create(
                scheme=LoginIdentity.Scheme.ENTRA_ID,
                organisation=demo_identities.DEMO_TENANT,
                person=demo_identities.person_id(username),
                defaults={"user": users[username], "issuer": f"http://localhost:{demo_identities.ENTRA_PORT}"},
            )

    def _interfaces(self) -> dict[str, Interface]:
        result = {}
        for code, name_da, name_en, desc_da, desc_en, categories in WEB_SERVICES:
            result[code], _ = Interface.objects.update_or_create(
                code=code,
                defaults={
                    "kind": "web_service",
                    "name_da": name_da,
                    "name_en": name_en,
                    "description_da": desc_da,
                    "description_en": desc_en,
                    "data_categories": categories,
                    "special_categories": INTERFACE_FLAGS[code][0],
                    "cpr_numbers": INTERFACE_FLAGS[code][1],
                    "processing_purpose": INTERFACE_PROCESSING[code][0],
                    "data_subjects": INTERFACE_PROCESSING[code][1],
                },
            )
        for code, name, replaced_by in FILE_INTERFACES:
            result[code], _ = Interface.objects.update_or_create(
                code=code,
                defaults={
                    "kind": "file",
                    "name_da": name,
                    "name_en": name,
                    "replaced_by": result[replaced_by],
                    # The catalogue says it is a file interface being phased out, and by what it is replaced
                    # (`replaced_by`): a description saying so too made the catalogue say it twice.
                    "description_da": "",
                    "description_en": "",
                },
            )
        return result

    def _catalogue(self, interfaces) -> dict[str, ExternalSystem]:
        vendors = {}
        for cvr, name, email in VENDORS:
            vendors[cvr], _ = Vendor.objects.update_or_create(
                cvr=cvr, owner=None, defaults={"name": name, "contact_email": email}
            )
        systems = {}
        for name, cvr, category, standard, codes in SYSTEMS:
            system, _ = ExternalSystem.objects.update_or_create(
                name=name, owner=None, defaults={"vendor": vendors[cvr], "category": category, "is_standard": standard}
            )
            system.standard_interfaces.set([interfaces[c] for c in codes])
            systems[name] = system
        for code, name_da, name_en, system_name, codes in PACKAGES:
            package, _ = IntegrationPackage.objects.update_or_create(
                code=code, defaults={"name_da": name_da, "name_en": name_en, "external_system": systems[system_name]}
            )
            package.interfaces.set([interfaces[c] for c in codes])
        return systems

    def _customers(self, users, interfaces, systems) -> dict[str, Customer]:
        customers = {}
        for name, cvr, ean12, manager, reference, terms, included in CUSTOMERS:
            customer, _ = Customer.objects.update_or_create(
                cvr=cvr,
                defaults={
                    "name": name,
                    "ean": ean12 + str(gs1_check_digit(ean12)),
                    "account_manager": users[manager],
                    "invoice_reference_person": f"Lønkontoret, {name}",
                },
            )
            contract, _ = MainContract.objects.update_or_create(
                customer=customer,
                defaults={
                    "reference": reference,
                    "terms": terms,
                    # Odense's tender contract ties licences bought later to the systems they are bought for.
                    "licence_scope": "named" if terms == "tender" else "all",
                    "signed_on": CONTRACT_SIGNED_ON.get(reference),
                    "dpa_reference": DATA_PROCESSING_AGREEMENTS[reference][0],
                    "dpa_dated": DATA_PROCESSING_AGREEMENTS[reference][1],
                    "test_environment_data": "fictitious" if reference in FICTITIOUS_TEST_DATA else "real",
                },
            )
            for code, coverage, named in included:
                line, _ = ContractInterface.objects.update_or_create(
                    contract=contract, interface=interfaces[code], defaults={"coverage": coverage}
                )
                line.named_systems.set([systems[n] for n in named])
            customers[cvr] = customer
        for username, cvr, orderer, signatory, user_admin in MEMBERSHIPS:
            CustomerMembership.objects.update_or_create(
                user=users[username],
                customer=customers[cvr],
                defaults={"is_orderer": orderer, "is_signatory": signatory, "is_user_admin": user_admin},
            )
        self._login_identities(users)
        aarhus = customers["55133018"]
        # A system the catalogue does not list, registered by Aarhus's orderer through the service: its own
        # record of the vendor, seen only by Aarhus and KMD; always individual integration.
        own = ExternalSystem.objects.filter(owner=aarhus, name="Aarhus Fraværsoverblik").first()
        if own is None:
            own = services.external_system_register(
                actor=users["bestiller"],
                customer=aarhus,
                name="Aarhus Fraværsoverblik",
                vendor_name="Lokal IT ApS",
                vendor_cvr="26457513",
                vendor_email="it@lokal-it.example",
                category="time_registration",
                description="Lokalt udviklet overblik over fravær for ledere i Aarhus Kommune; "
                "registrerer fravær i KMD Opus Personale.",
            )
        systems["Aarhus Fraværsoverblik"] = own
        return customers

    def _price_list(self, interfaces) -> None:
        price_list, created = PriceList.objects.get_or_create(
            effective_from=datetime.date(2025, 1, 1),
            defaults={
                "name": "Eksempelpriser 2025 (demo)",
                "is_example": True,
                "setup_fee": Decimal("7500.00"),
                "startup_package_price": Decimal("35000.00"),
                "consulting_hourly_rate": Decimal("1450.00"),
            },
        )
        if not created:
            return
        for code, (start, monthly, additional) in DEMO_INTERFACE_PRICES.items():
            InterfacePrice.objects.create(
                price_list=price_list,
                interface=interfaces[code],
                licence_start_fee=Decimal(start),
                monthly_fee=Decimal(monthly),
                additional_system_fee=Decimal(additional),
            )
        for code, monthly in DEMO_PACKAGE_PRICES.items():
            PackagePrice.objects.create(
                price_list=price_list, package=IntegrationPackage.objects.get(code=code), monthly_fee=Decimal(monthly)
            )

    def _demo_certificate(self, order, orderer) -> bool:
        """Give the customer's own system a chain from a look-alike demo CA, where the demo trusts it.

        The demo CA is made here and trusted for the test environment only with DJANGO_DEBUG=1
        (config/settings.py); its private keys exist only in this process. A sample upload is left
        in private/demo-upload/ for trying the upload page.
        """
        demo_trust = Path(settings.STORAGES["default"]["OPTIONS"]["location"]) / "demo-trust"
        if demo_trust not in [Path(d) for d in settings.CERTIFICATE_TRUST_DIRS["test"]]:
            self.stdout.write("No demo trust directory configured; the individual-integration order stays a draft.")
            return False
        pki = make_pki(unit="Opus Adgang demo (ikke ægte)")
        demo_trust.mkdir(parents=True, exist_ok=True)
        (demo_trust / "demo-rod-ca.pem").write_bytes(pem(pki.root))
        (demo_trust / "demo-udstedende-ca.pem").write_bytes(pem(pki.issuing))
        trust._load.cache_clear()
        vendor_cvr = order.external_system.vendor.cvr
        chain = zip_bytes({"fravaersoverblik.pem": pem(make_leaf(pki, cvr=vendor_cvr), pki.issuing)})
        samples = demo_trust.parent / "demo-upload"
        samples.mkdir(exist_ok=True)
        (samples / "fravaersoverblik-kaede.zip").write_bytes(chain)
        _record, report = certificate_upload(order=order, actor=orderer, data=chain, filename="fravaersoverblik.zip")
        return report.valid

    def _orders(self, customer, users, interfaces, systems) -> None:
        members = {m.user.username: m.user for m in customer.memberships.select_related("user")}
        orderer = next(u for name, u in members.items() if name.startswith("bestiller"))
        signatory = next(u for name, u in members.items() if name.startswith("tegner") or name == "bestiller.region")
        manager = customer.account_manager
        support = users["support"]

        def order(
            system,
            *,
            codes=(),
            package=None,
            environment="production",
            reason="new",
            replaces=None,
            note="",
            requisition="",
            startup=False,
            replaces_access=None,
        ):
            facts = {
                "external_system": systems[system],
                "purchase_model": "package" if package else "single",
                "package": IntegrationPackage.objects.get(code=package) if package else None,
                "interfaces": [interfaces[c] for c in codes],
                "environment": environment,
                "reason": reason,
                "replaces_file_interface": interfaces[replaces] if replaces else None,
                "replaces_order": replaces_access,
                "startup_package": startup,
                "note": note,
                "requisition_number": requisition,
                "vendor_agreement_confirmed": True,
            }
            return services.order_create(actor=orderer, customer=customer, facts=facts)

        def accept(o):
            addendum = services.addendum_render(o.addenda.get(status="issued").pk)
            return services.order_accept(
                order=o,
                actor=signatory,
                document_sha256=addendum.pdf_sha256,
                signer_name=signatory.get_full_name(),
                signer_title=signatory.title,
                authorised=True,
                ip="127.0.0.1",
            )

        def backdate_acceptance(o, days_ago):
            # Demo history only: access cannot be established before the addendum was accepted, so an
            # access "established 75 days ago" needs an acceptance at least that old.
            # Moved by whole local days, at noon: a day count from now could cross midnight where summer time
            # differs from today's (at 23:30 in December, 75 days back is 00:30 the day after in September).
            if days_ago:
                day = timezone.localdate() - datetime.timedelta(days=days_ago)
                moved = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
                o.addenda.filter(status="accepted").update(decided_at=moved)
            return o

        today = timezone.localdate()
        year_end = datetime.date(today.year, 12, 31)
        if year_end <= today:  # on 31 December the next year end is a year away
            year_end = datetime.date(today.year + 1, 12, 31)

        def clarify(o):
            # Individual integration: the account manager clarifies the access rights before the addendum.
            if o.integration_type == AccessOrder.IntegrationType.INDIVIDUAL:
                access_clarification_record(
                    order=o,
                    actor=manager,
                    interfaces=o.requested_interfaces(),
                    data_scope="Fravær for medarbejderne i de afdelinger, den enkelte leder har ansvar for. "
                    "Ingen løn-, skatte- eller pensionsoplysninger.",
                )
            return o

        def to(o, state, days_ago=0):
            steps = {
                "submitted": [lambda: services.order_submit(order=o, actor=orderer)],
                "awaiting_signature": [
                    lambda: clarify(o),
                    lambda: services.order_issue_addendum(order=o, actor=manager),
                ],
                "provisioning": [lambda: accept(o)],
                "active": [
                    lambda: backdate_acceptance(o, days_ago),
                    lambda: services.order_activate(
                        order=o, actor=manager, on=timezone.localdate() - datetime.timedelta(days=days_ago)
                    ),
                ],
                "closure_requested": [
                    lambda: services.order_request_closure(
                        order=o, actor=orderer, comment="Systemet udfases ved årsskiftet.", wished_on=year_end
                    )
                ],
            }
            for name in ["submitted", "awaiting_signature", "provisioning", "active", "closure_requested"]:
                for step in steps[name]:
                    o = step()
                if name == state:
                    return o
            raise ValueError(state)

        if customer.cvr == "55133018":
            order("TidReg", codes=["opret-fravaer"], note="Vi vil gerne i gang i første kvartal.")
            to(order("KantineKort", codes=["engangsydelser"], reason="phase_out", replaces="ind01"), "submitted")
            to(order("RekrutOnline", codes=["upload-personalemappe"]), "awaiting_signature")
            to(order("SkoleVikar", codes=["medarbejderoplysninger", "engangsydelser"]), "provisioning")
            rostering = to(
                order("VagtPlan Online", package="vagtplanpakke", requisition="AAR-IT-2291"), "active", days_ago=75
            )
            # A replacement order: TidReg takes over from VagtPlan Online, whose access closes when TidReg's opens.
            replacement = order(
                "TidReg",
                codes=["opret-fravaer"],
                replaces_access=rostering,
                note="TidReg overtager fraværsregistreringen fra VagtPlan Online.",
            )
            to(replacement, "submitted")
            leaving = to(order("Børneplan", package="dagtilbudspakke"), "closure_requested", days_ago=140)
            # Closure at year end: asked for by the orderer, scheduled by the account manager; active and billed until then.
            services.order_schedule_closure(
                order=leaving, actor=manager, on=year_end, comment="Lukkes ved årsskiftet som ønsket."
            )
            closed = to(order("TidReg", codes=["engangsydelser"], environment="test"), "active")
            services.order_close(order=closed, actor=manager, comment="Testforløbet er afsluttet.")
            breached = to(order("SkoleVikar", codes=["medarbejderoplysninger"], environment="test"), "active")
            services.order_emergency_close(
                order=breached,
                actor=support,
                reason="Leverandøren har meldt et sikkerhedsbrud; adgangen lukkes, indtil det er afklaret.",
            )
            own = order(
                "Aarhus Fraværsoverblik",
                codes=["opret-fravaer"],
                environment="test",
                note="Eget system; individuel integration med opstartspakke.",
                startup=True,
            )
            if self._demo_certificate(own, orderer):
                # Established about 5½ months ago: its startup package's test access ends within the month.
                to(own, "active", days_ago=165)
            # During the project the customer asks for more than the startup package includes.
            consulting.consulting_request_create(
                actor=orderer,
                customer=customer,
                order=own,
                kind=ConsultingRequest.Kind.REACTIVE,
                message="Vi har brugt opstartspakkens møder og har brug for et par timers hjælp mere til "
                "fravær med barn, før vi går i produktion.",
            )
            # The order's thread (ordering/thread.py): the customer writes with a file, the account manager answers.
            test_plan = "Testtilfælde;Forventet\nBarns første sygedag;Registreres som omsorgsdag\n".encode()
            thread.order_message_post(
                order=own,
                actor=orderer,
                text="Her er vores testplan for fravær med barn. Dækker den det, I skal bruge fra os?",
                files=[("Testplan fravær.csv", test_plan, len(test_plan))],
            )
            thread.order_message_post(
                order=own,
                actor=manager,
                text="Tak, testplanen dækker det, vi har brug for. Husk også et tilfælde med halv sygedag.",
            )
            withdrawn = to(order("KantineKort", codes=["engangsydelser"], environment="test"), "submitted")
            services.order_withdraw(order=withdrawn, actor=orderer, comment="Bestilt ved en fejl.")
            rejected = to(order("RekrutOnline", codes=["medarbejderoplysninger"], environment="test"), "submitted")
            services.order_reject(
                order=rejected, actor=manager, comment="Testmiljøet er allerede åbnet for RekrutOnline via jeres pakke."
            )
        elif customer.cvr == "35209115":
            breached = to(order("Børneplan", package="dagtilbudspakke"), "active", days_ago=100)
            # The customer asks support for an emergency closure; it waits at the top of support's start page.
            services.order_request_emergency_closure(
                order=breached,
                actor=orderer,
                reason="Leverandøren har meldt et sikkerhedsbrud i sit system; luk adgangen, til det er afklaret.",
            )
            to(order("VagtPlan Online", codes=["moedetidsplaner"]), "submitted")
        else:
            self._fees_due_once(customer, order, to, accept, manager, orderer, signatory)
        assert AccessOrder.objects.filter(customer=customer).exists()

    def _fees_due_once(self, customer, order, to, accept, manager, orderer, signatory) -> None:
        """Region Midtjylland shows the money rules a newcomer should see (billing/pricing.py, "Fees due once")."""
        # Two systems order the same new interface before either access is established: TidReg's addendum prices
        # the licence start fee, VagtPlan Online's names TidReg's order and prices 0 kr. (one licence serves all).
        to(
            order("TidReg", codes=["opret-fravaer"], note="Fraværsregistrering for hele regionen."),
            "awaiting_signature",
        )
        to(order("VagtPlan Online", codes=["opret-fravaer"]), "awaiting_signature")
        # The same race for Medarbejderoplysninger, after which Børneplan's addendum is declined: the licence start
        # fee moves to SkoleVikar's order (its history says so), which pays it when its access is established.
        first = to(order("Børneplan", codes=["medarbejderoplysninger"]), "awaiting_signature")
        # SkoleVikar adds a system the contract does not name for Engangsydelser: the additional-system fee, once.
        moved_to = to(order("SkoleVikar", codes=["medarbejderoplysninger", "engangsydelser"]), "awaiting_signature")
        services.order_decline(order=first, actor=signatory, comment="Børneplan venter til næste år.")
        moved_to.refresh_from_db()
        established = accept(moved_to)
        services.order_activate(order=established, actor=manager)
        # Its test access: no setup fee (the system is set up, in either environment) and no additional-system fee
        # (the contract now covers SkoleVikar for Engangsydelser).
        to(order("SkoleVikar", codes=["engangsydelser"], environment="test"), "submitted")
        # Consulting before any order: the region asks KMD about an integration project of its own; the account
        # manager answers and records the first meeting, billed at the senior consultant's rate of the day.
        asked = consulting.consulting_request_create(
            actor=orderer,
            customer=customer,
            kind=ConsultingRequest.Kind.ACTIVE_PART,
            message="Vi overvejer at integrere regionens eget vagtsystem med KMD Opus Personale og vil gerne tale "
            "med KMD, før projektet går i gang: hvad kræver det af os og af leverandøren?",
        )
        consulting.consulting_request_answer(
            actor=manager,
            request=asked,
            answer="Tak for henvendelsen. Vi holder et afklaringsmøde og sender derefter et oplæg til KMD's rolle i "
            "projektet.",
        )
        consulting_record(
            customer=customer,
            actor=manager,
            on=timezone.localdate(),
            hours=Decimal("1.5"),
            description="Afklaringsmøde om eget vagtsystem",
        )
        # And one waiting on the account manager's start page: reactive help about VagtPlan Online's order.
        consulting.consulting_request_create(
            actor=orderer,
            customer=customer,
            order=AccessOrder.objects.filter(customer=customer, external_system__name="VagtPlan Online").get(),
            kind=ConsultingRequest.Kind.REACTIVE,
            message="Leverandøren spørger, hvordan fravær med barn skal indberettes. Kan I hjælpe med et kort møde?",
        )
