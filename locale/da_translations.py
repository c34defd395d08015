"""Danish translations of the UI, kept as data so `make messages` can refill django.po after makemessages.

Run: python locale/da_translations.py  (after makemessages; then compilemessages).
"""

DA = {
    "Opus Adgang": "Opus Adgang",
    "Brugere": "Brugere",
    "Bestilling": "Bestilling",
    "job title": "stillingsbetegnelse",
    "KMD Opus Personale support": "KMD Opus Personale support",
    "May read every order and emergency-close any access.": "Må se alle bestillinger og akut lukke enhver adgang.",
    "user": "bruger",
    "users": "brugere",
    "Danish": "Dansk",
    "English": "Engelsk",
    "Comment": "Kommentar",
    "Date": "Dato",
    "I confirm": "Jeg bekræfter",
    "Submit order": "Indsend bestilling",
    "The account manager at KMD reviews the order and prepares the contract addendum.":
        "Jeres salgs- og kundeansvarlige hos KMD gennemgår bestillingen og udarbejder tillægget til kontrakten.",
    "Withdraw order": "Træk bestillingen tilbage",
    "The order is cancelled and cannot be reopened.": "Bestillingen annulleres og kan ikke genåbnes.",
    "Return for changes": "Send retur til rettelse",
    "What should the orderer change?": "Hvad skal bestilleren rette?",
    "Reject order": "Afvis bestilling",
    "Reason": "Begrundelse",
    "Issue contract addendum": "Udsend tillæg til kontrakten",
    "The customer's signatories are asked to accept the addendum.":
        "Kundens tegningsberettigede bliver bedt om at acceptere tillægget.",
    "Issue a new version of the addendum": "Udsend en ny version af tillægget",
    "What changed?": "Hvad er ændret?",
    "Accept addendum": "Acceptér tillægget",
    "I am authorised to bind the customer, and I instruct KMD as data processor to give the external system access as described in the addendum.":
        "Jeg er tegningsberettiget for kunden, og jeg instruerer KMD som databehandler i at give det eksterne "
        "system adgang som beskrevet i tillægget.",
    "Decline addendum": "Afvis tillægget",
    "Why is the addendum declined?": "Hvorfor afvises tillægget?",
    "Access established": "Adgangen er etableret",
    "Access established on": "Adgangen etableret den",
    "The orderers are told, with a text to forward to the vendor.":
        "Bestillerne får besked med en tekst, de kan videresende til leverandøren.",
    "Request closure of access": "Anmod om lukning af adgang",
    "Close access": "Luk adgangen",
    "Access ends on": "Adgangen ophører den",
    "Billing tied to this access stops on that date.": "Faktureringen knyttet til adgangen stopper på den dato.",
    "Emergency-close access": "Luk adgangen akut",
    "Reason for the emergency closure": "Begrundelse for den akutte lukning",
    "I understand that access is closed at once and cannot be reopened; a new order is needed.":
        "Jeg forstår, at adgangen lukkes med det samme og ikke kan genåbnes; det kræver en ny bestilling.",
    "Closes access immediately. Customer and account manager are notified at once.":
        "Lukker adgangen med øjeblikkelig virkning. Kunden og den salgs- og kundeansvarlige får besked med det samme.",
    "External system": "Eksternt system",
    "Choose a system": "Vælg et system",
    "The system that should get access to KMD Opus Personale.": "Det system, der skal have adgang til KMD Opus Personale.",
    "Purchase model": "Købsmodel",
    "Interfaces": "Snitflader",
    "For a single purchase: the web services the system needs.": "Ved enkeltkøb: de webservices, systemet skal bruge.",
    "Integration package": "Integrationspakke",
    "No package": "Ingen pakke",
    "For an integration package: the package made for the chosen system.":
        "Ved integrationspakke: pakken til det valgte system.",
    "Environment": "Miljø",
    "File interface being replaced": "Filbaseret snitflade, der erstattes",
    "None": "Ingen",
    "Existing access to change": "Eksisterende adgang, der ændres",
    "Requisition number": "Rekvisitionsnummer",
    "Note to KMD": "Bemærkning til KMD",
    "Order for": "Bestil for",
    "name (Danish)": "navn (dansk)",
    "name (English)": "navn (engelsk)",
    "Web service": "Webservice",
    "File interface (being phased out)": "Filbaseret snitflade (under udfasning)",
    "code": "kode",
    "kind": "type",
    "description (Danish)": "beskrivelse (dansk)",
    "description (English)": "beskrivelse (engelsk)",
    "personal-data categories": "kategorier af personoplysninger",
    "One category per line; printed in the contract addendum.": "Én kategori pr. linje; trykkes i tillægget til kontrakten.",
    "replaced by": "erstattes af",
    "For a file interface being phased out: the web service that replaces it.":
        "For en filbaseret snitflade under udfasning: den webservice, der erstatter den.",
    "interface": "snitflade",
    "interfaces": "snitflader",
    "name": "navn",
    "CVR number": "CVR-nummer",
    "contact e-mail": "kontakt-e-mail",
    "vendor": "leverandør",
    "vendors": "leverandører",
    "Rostering": "Vagtplanlægning",
    "Canteen": "Kantine",
    "Recruitment": "Rekruttering",
    "Time registration": "Tidsregistrering",
    "Day care": "Dagtilbud",
    "School / substitutes": "Skole / vikarer",
    "Employee settlement": "Medarbejderafregning",
    "Organisation management": "Organisationsstyring",
    "Security management": "Sikkerhedsstyring",
    "Other": "Andet",
    "category": "kategori",
    "standard system": "standardsystem",
    "KMD and the vendor have agreed a standard integration (certificate already agreed).":
        "KMD og leverandøren har aftalt en standardintegration (certifikatet er allerede aftalt).",
    "registered by customer": "registreret af kunde",
    "Empty for systems in KMD's catalogue; set for a customer's own system.":
        "Tom for systemer i KMD's katalog; udfyldt for en kundes eget system.",
    "interfaces covered by the standard integration": "snitflader omfattet af standardintegrationen",
    "external system": "eksternt system",
    "external systems": "eksterne systemer",
    "integration package": "integrationspakke",
    "integration packages": "integrationspakker",
    "EAN number": "EAN-nummer",
    "account manager": "salgs- og kundeansvarlig",
    "customer": "kunde",
    "customers": "kunder",
    "orderer": "bestiller",
    "signatory": "tegningsberettiget",
    "Allowed to bind the customer: accepts contract addenda.": "Må forpligte kunden: accepterer tillæg til kontrakten.",
    "customer membership": "kundetilknytning",
    "customer memberships": "kundetilknytninger",
    "Standard terms": "Standardvilkår",
    "Tender (udbud)": "Udbud",
    "contract reference": "kontraktreference",
    "terms": "vilkår",
    "signed on": "underskrevet den",
    "main contract": "hovedaftale",
    "main contracts": "hovedaftaler",
    "All external systems": "Alle eksterne systemer",
    "Named systems only": "Kun navngivne systemer",
    "coverage": "dækning",
    "named systems": "navngivne systemer",
    "interface in contract": "snitflade i kontrakten",
    "interfaces in contract": "snitflader i kontrakten",
    "Draft": "Kladde",
    "Submitted": "Indsendt",
    "Awaiting signature": "Afventer accept",
    "Access being established": "Adgangen etableres",
    "Active": "Aktiv",
    "Closure requested": "Lukning ønsket",
    "Closed": "Lukket",
    "Emergency-closed": "Akut lukket",
    "Withdrawn": "Trukket tilbage",
    "Rejected": "Afvist",
    "Single purchase of interfaces": "Enkeltkøb af snitflader",
    "Production": "Produktion",
    "Test": "Test",
    "New integration": "Ny integration",
    "Replaces a file interface being phased out": "Erstatter en filbaseret snitflade under udfasning",
    "Change to an existing access": "Ændring af en eksisterende adgang",
    "Standard integration": "Standardintegration",
    "Individual integration": "Individuel integration",
    "purchase model": "købsmodel",
    "environment": "miljø",
    "reason": "årsag",
    "file interface replaced": "filbaseret snitflade, der erstattes",
    "changes access": "ændrer adgang",
    "integration type": "integrationstype",
    "requisition number": "rekvisitionsnummer",
    "Your own reference, printed on invoices.": "Jeres egen reference; står på fakturaen.",
    "note to KMD": "bemærkning til KMD",
    "state": "status",
    "created by": "oprettet af",
    "created": "oprettet",
    "updated": "opdateret",
    "submitted": "indsendt",
    "access established on": "adgang etableret den",
    "access ended on": "adgang ophørt den",
    "reason for emergency closure": "begrundelse for akut lukning",
    "access order": "adgangsbestilling",
    "access orders": "adgangsbestillinger",
    "Issued": "Udsendt",
    "Only when the order replaces a file interface being phased out.":
        "Kun når bestillingen erstatter en filbaseret snitflade under udfasning.",
    "Only for a change: the active access this order changes.":
        "Kun ved ændring: den aktive adgang, som bestillingen ændrer.",
    "Superseded": "Erstattet",
    "Accepted": "Accepteret",
    "Declined": "Afvist",
    "version": "version",
    "status": "status",
    "issued": "udsendt",
    "decided": "besluttet",
    "decided from IP address": "besluttet fra IP-adresse",
    "reason for declining": "begrundelse for afvisning",
    "contract addendum": "tillæg til kontrakten",
    "contract addenda": "tillæg til kontrakten",
    "audit event": "revisionshændelse",
    "audit events": "revisionshændelser",
    "Order created": "Bestilling oprettet",
    "Draft changed": "Kladde ændret",
    "Returned for changes": "Sendt retur til rettelse",
    "Contract addendum issued": "Tillæg til kontrakten udsendt",
    "New addendum version issued": "Ny version af tillægget udsendt",
    "Addendum accepted": "Tillægget accepteret",
    "Addendum declined": "Tillægget afvist",
    "Access closed": "Adgangen lukket",
    "Orderer": "Bestiller",
    "Signatory": "Tegningsberettiget",
    "Account manager": "Salgs- og kundeansvarlig",
    "Support": "Support",
    "Choose an external system from the list.": "Vælg et eksternt system på listen.",
    "Choose the integration package the system should have access to.":
        "Vælg den integrationspakke, systemet skal have adgang til.",
    "The package “%(package)s” is made for another external system.":
        "Pakken “%(package)s” hører til et andet eksternt system.",
    "With an integration package the interfaces come from the package; clear the interfaces you picked.":
        "Med en integrationspakke følger snitfladerne af pakken; fjern de snitflader, du har valgt.",
    "A single purchase cannot also name a package.": "Et enkeltkøb kan ikke også angive en pakke.",
    "Choose at least one interface the system should have access to.":
        "Vælg mindst én snitflade, systemet skal have adgang til.",
    "File interfaces are being phased out and cannot be ordered; choose web services.":
        "Filbaserede snitflader er under udfasning og kan ikke bestilles; vælg webservices.",
    "Choose single purchase or integration package.": "Vælg enkeltkøb eller integrationspakke.",
    "Name the file interface (IND01, IND02, FERIE or FRAVÆR) this order replaces.":
        "Angiv den filbaserede snitflade (IND01, IND02, FERIE eller FRAVÆR), som bestillingen erstatter.",
    "Only a phase-out order replaces a file interface.": "Kun en udfasningsbestilling erstatter en filbaseret snitflade.",
    "Choose the active access this order changes.": "Vælg den aktive adgang, som bestillingen ændrer.",
    "A change must concern an active access for the same system and environment.":
        "En ændring skal gælde en aktiv adgang for samme system og miljø.",
    "Only a change order names an existing access.": "Kun en ændringsbestilling angiver en eksisterende adgang.",
    "Choose the production or the test environment.": "Vælg produktions- eller testmiljøet.",
    "Choose why the access is ordered.": "Vælg, hvorfor adgangen bestilles.",
    "The order has errors. Correct the fields marked below.": "Bestillingen har fejl. Ret felterne markeret nedenfor.",
    "Only an orderer at %(customer)s can create orders for it.":
        "Kun en bestiller hos %(customer)s kan oprette bestillinger for den.",
    "Only an orderer at the customer can change this order.": "Kun en bestiller hos kunden kan ændre bestillingen.",
    "Only a draft can be changed. This order is “%(state)s”.": "Kun en kladde kan ændres. Bestillingen er “%(state)s”.",
    "Someone else changed this order while you were working on it: it is now “%(state)s”. Reload the page to see what happened.":
        "En anden har ændret bestillingen, mens du arbejdede med den: den er nu “%(state)s”. "
        "Genindlæs siden for at se, hvad der er sket.",
    "This cannot be done while the order is “%(state)s”.": "Det kan ikke lade sig gøre, mens bestillingen er “%(state)s”.",
    "You do not have the role needed to do this for this customer's order.":
        "Du har ikke den rolle, der skal til for at gøre dette på kundens bestilling.",
    "The order names no interfaces. Edit it and choose interfaces or a package.":
        "Bestillingen angiver ingen snitflader. Ret den, og vælg snitflader eller en pakke.",
    "%(system)s already has an open order (%(reference)s, “%(state)s”) for some of the same interfaces in this environment. Withdraw one of them, or order a change to the existing access.":
        "%(system)s har allerede en åben bestilling (%(reference)s, “%(state)s”) på nogle af de samme snitflader "
        "i dette miljø. Træk en af dem tilbage, eller bestil en ændring af den eksisterende adgang.",
    "Tell the orderer what to change.": "Skriv, hvad bestilleren skal rette.",
    "Give the reason for rejecting the order; the orderer will see it.":
        "Skriv begrundelsen for afvisningen; bestilleren kan se den.",
    "Say what changed in the new version of the addendum.": "Skriv, hvad der er ændret i den nye version af tillægget.",
    "Tell the account manager why the addendum is declined.":
        "Skriv til den salgs- og kundeansvarlige, hvorfor tillægget afvises.",
    "Replaced by %(reference)s.": "Erstattet af %(reference)s.",
    "Access cannot be marked as established on a future date.": "Adgangen kan ikke markeres som etableret på en fremtidig dato.",
    "Access can only be closed today or on a past date, not in the future.":
        "Adgangen kan kun lukkes i dag eller på en tidligere dato, ikke i fremtiden.",
    "The closing date cannot be before access was established (%(date)s).":
        "Lukkedatoen kan ikke ligge før adgangen blev etableret (%(date)s).",
    "Give the reason for the emergency closure; customer and account manager will see it.":
        "Skriv begrundelsen for den akutte lukning; kunden og den salgs- og kundeansvarlige kan se den.",
    "A CVR number is 8 digits, for example 12345678. You entered “%(value)s”.":
        "Et CVR-nummer består af 8 cifre, f.eks. 12345678. Du skrev “%(value)s”.",
    "An EAN number is 13 digits. You entered “%(value)s”.": "Et EAN-nummer består af 13 cifre. Du skrev “%(value)s”.",
    "The EAN number “%(value)s” has a wrong check digit. Check the number on the customer’s invoice details.":
        "EAN-nummeret “%(value)s” har et forkert kontrolciffer. Tjek nummeret i kundens faktureringsoplysninger.",
    "The order was saved as a draft. Check it and submit it.": "Bestillingen er gemt som kladde. Tjek den, og indsend den.",
    "Only a draft can be changed.": "Kun en kladde kan ændres.",
    "The draft was saved.": "Kladden er gemt.",
    "The order changed while you were looking at it; it is now “%(state)s”. Check it and try again.":
        "Bestillingen blev ændret, mens du så på den; den er nu “%(state)s”. Tjek den, og prøv igen.",
    "Done: %(action)s.": "Udført: %(action)s.",
    "optional": "valgfrit",
    "Error:": "Fejl:",
    "Pages": "Sider",
    "Page %(number)s of %(total)s": "Side %(number)s af %(total)s",
    "Previous": "Forrige",
    "Next": "Næste",
    "Go to page content": "Gå til sidens indhold",
    "Opus Adgang – front page": "Opus Adgang – forside",
    "Log out": "Log ud",
    "Access to KMD Opus Personale's standard interfaces": "Adgang til KMD Opus Personales standardsnitflader",
    "Main menu": "Hovedmenu",
    "Start": "Start",
    "Orders": "Bestillinger",
    "Catalogue": "Katalog",
    "%(system)s: %(type)s with your current choices.": "%(system)s: %(type)s med dine nuværende valg.",
    "Integration packages for this system:": "Integrationspakker til dette system:",
    "No integration package exists for this system; order single interfaces.":
        "Der findes ingen integrationspakke til dette system; bestil enkelte snitflader.",
    "Order": "Bestilling",
    "Customer": "Kunde",
    "State": "Status",
    "Created": "Oprettet",
    "No orders.": "Ingen bestillinger.",
    "Open and active accesses": "Åbne og aktive adgange",
    "No open or active access matches.": "Ingen åben eller aktiv adgang passer på søgningen.",
    "Standard interfaces": "Standardsnitflader",
    "Interface": "Snitflade",
    "Gives access to": "Giver adgang til",
    "Kind": "Type",
    "Being phased out; replaced by %(name)s.": "Under udfasning; erstattes af %(name)s.",
    "Integration packages": "Integrationspakker",
    "Package": "Pakke",
    "Standard systems": "Standardsystemer",
    "System": "System",
    "Vendor": "Leverandør",
    "Category": "Kategori",
    "No – individual integration": "Nej – individuel integration",
    "Welcome, %(name)s": "Velkommen, %(name)s",
    "Your organisation's orders": "Jeres bestillinger",
    "Order access for a system": "Bestil adgang til et system",
    "Orders by state": "Bestillinger efter status",
    "All": "Alle",
    "Your organisation has no orders yet.": "I har ingen bestillinger endnu.",
    "Waiting for you": "Venter på dig",
    "Orders from your customers that are submitted, being established or asked to be closed.":
        "Bestillinger fra dine kunder, der er indsendt, under etablering eller ønskes lukket.",
    "Orders waiting for you": "Bestillinger, der venter på dig",
    "Nothing is waiting for you.": "Intet venter på dig.",
    "Search customer, CVR, system, vendor or order number": "Søg på kunde, CVR, system, leverandør eller bestillingsnummer",
    "Search": "Søg",
    "You have no role in Opus Adgang yet. Ask your administrator for access.":
        "Du har endnu ingen rolle i Opus Adgang. Bed din administrator om adgang.",
    "Order %(reference)s: %(system)s": "Bestilling %(reference)s: %(system)s",
    "Access was emergency-closed": "Adgangen er lukket akut",
    "To open access again, create a new order (with a new certificate if the old one may be compromised).":
        "Skal adgangen åbnes igen, kræver det en ny bestilling (med et nyt certifikat, hvis det gamle kan være kompromitteret).",
    "Access is established": "Adgangen er etableret",
    "Tell %(vendor)s that %(system)s has access to KMD Opus Personale from %(date)s.":
        "Giv %(vendor)s besked om, at %(system)s har adgang til KMD Opus Personale fra %(date)s.",
    "The order": "Bestillingen",
    "CVR": "CVR",
    "Integration type": "Integrationstype",
    "None chosen yet": "Ingen valgt endnu",
    "Access ended on": "Adgangen ophørte den",
    "Edit draft": "Ret kladde",
    "Contract addendum": "Tillæg til kontrakten",
    "Versions of the contract addendum": "Versioner af tillægget til kontrakten",
    "Version": "Version",
    "Status": "Status",
    "Decided": "Besluttet",
    "History": "Historik",
    "What you can do now": "Det kan du gøre nu",
    "There is nothing for you to do on this order right now.": "Der er intet for dig at gøre på bestillingen lige nu.",
    "Order access": "Bestil adgang",
    "Edit draft %(reference)s": "Ret kladde %(reference)s",
    "Order access for an external system": "Bestil adgang til et eksternt system",
    "For %(customer)s. The order is saved as a draft; you submit it on the next page.":
        "For %(customer)s. Bestillingen gemmes som kladde; du indsender den på næste side.",
    "Change organisation": "Skift organisation",
    "Save draft": "Gem kladde",
    "Cancel": "Annullér",
    "All states": "Alle statusser",
    "Show": "Vis",
    "Orders you can see": "Bestillinger, du kan se",
    "Log in": "Log ind",
    "Order and follow access for your external systems to KMD Opus Personale.":
        "Bestil og følg adgang for jeres eksterne systemer til KMD Opus Personale.",
}


def fill(path: str) -> list[str]:
    """Put the Danish text into every entry of django.po; return the msgids still untranslated."""
    import json

    text = open(path, encoding="utf-8").read()
    out, missing = [], []
    for block in text.strip("\n").split("\n\n"):
        lines = block.split("\n")
        msgid_parts, keep, in_msgid, seen_msgstr = [], [], False, False
        for line in lines:
            if line.startswith("msgid "):
                in_msgid = True
                msgid_parts.append(line[6:])
                keep.append(line)
            elif line.startswith("msgstr "):
                in_msgid, seen_msgstr = False, True
            elif line.startswith('"') and in_msgid:
                msgid_parts.append(line)
                keep.append(line)
            elif line.startswith('"') and seen_msgstr:
                continue
            else:
                keep.append(line)
        msgid = "".join(json.loads(p) for p in msgid_parts) if msgid_parts else None
        if msgid:
            translation = DA.get(msgid)
            if translation is None:
                missing.append(msgid)
                translation = ""
            keep = [line for line in keep if line != "#, fuzzy"]
            keep.append("msgstr " + json.dumps(translation, ensure_ascii=False))
        elif msgid == "":
            keep = [line for line in lines if line != "#, fuzzy"]  # the header
            keep = [line.replace('"Language: \\n"', '"Language: da\\n"') for line in keep]
        out.append("\n".join(keep))
    open(path, "w", encoding="utf-8").write("\n\n".join(out) + "\n")
    return missing


if __name__ == "__main__":
    import sys
    from pathlib import Path

    po = Path(__file__).parent / "da" / "LC_MESSAGES" / "django.po"
    missing = fill(str(po))
    for m in missing:
        print("untranslated:", m)
    sys.exit(1 if missing else 0)
