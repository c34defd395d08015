"""Who among KMD's staff is a catalogue admin: the only people the Django admin lets in."""

# KMD staff who maintain the catalogue and price lists without being superusers are put in this group
# (a superuser creates it in the admin and gives it the permissions the work needs).
CATALOGUE_ADMIN_GROUP = "Katalogadministratorer"


def is_catalogue_admin(user) -> bool:
    """Active KMD staff who are superusers or in the catalogue-admin group.

    `is_staff` alone is not enough: account managers and support are staff too (account managers must
    be, to be chosen on a customer), and they work in Opus Adgang itself, not in the admin.
    """
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return user.is_superuser or user.groups.filter(name=CATALOGUE_ADMIN_GROUP).exists()
