"""How long before a system certificate expires the app acts: the one home of every expiry window.

Pure (no Django): the chain checks (certificates/chains.py) read it as well as the models' neighbours. ordering
reads the renewal window through ordering.lifecycle.Certificates (`renewal_due`); registers and api, above
certificates, may import it.
"""

RENEWAL_WINDOW_DAYS = 60
"""A certificate in use is due for renewal from this many days before the date it expires (that day counted):
the orderer's worklist "Certificates to renew", support's "Certificates expiring", the first expiry notice,
and the warning on an upload whose certificate is already that close to expiring."""

EXPIRY_NOTICE_DAYS = (RENEWAL_WINDOW_DAYS, 30, 7)
"""The orderers are e-mailed when this many days or fewer are left, once per threshold (ExpiryNotice), the
first when renewal falls due."""

WATCH_WINDOW_DAYS = 90
"""KMD's page of expiring certificates (account managers, support) looks this far ahead: a month before the
orderers are first told, so KMD sees a renewal coming before the customer is asked for it."""
