"""The one vocabulary of personal information, shared by adapters, reports, corrections,
disclosures and the processing register: the privacy policy's eight categories and the
activity its tools record."""

import enum


class Category(enum.StrEnum):
    """A kind of personal information."""

    NAME = "name"
    ADDRESS = "address"
    EMAIL = "email"
    PHONE = "phone"
    IP = "ip"
    COMPANY = "company"
    ID_DETAILS = "id_details"
    BANK_DETAILS = "bank_details"
    VISIT = "visit"
    TICKET = "ticket"
    CHAT = "chat"
    ORDER = "order"
    INVOICE = "invoice"
    PAYMENT = "payment"
    SIGN_IN = "sign_in"
    MESSAGE = "message"
    # The open kind: a record that is none of the above, named by its finding's label.
    RECORD = "record"

    @property
    def label(self) -> str:
        """The category's name as a person reads it."""
        return _LABELS[self]

    @property
    def is_activity(self) -> bool:
        """Tell whether this is recorded activity rather than a fact about the subject."""
        return self in ACTIVITY

    @property
    def masked(self) -> bool:
        """Tell whether staff see values of this category masked until they reveal them."""
        return self in {Category.ID_DETAILS, Category.BANK_DETAILS}


_LABELS = {
    Category.NAME: "Name",
    Category.ADDRESS: "Physical address",
    Category.EMAIL: "E-mail address",
    Category.PHONE: "Telephone number",
    Category.IP: "IP address",
    Category.COMPANY: "Company name",
    Category.ID_DETAILS: "ID details",
    Category.BANK_DETAILS: "Bank details",
    Category.VISIT: "Website visits",
    Category.TICKET: "Helpdesk tickets",
    Category.CHAT: "Live chats",
    Category.ORDER: "Orders and services",
    Category.INVOICE: "Invoices",
    Category.PAYMENT: "Payments",
    Category.SIGN_IN: "Sign-ins",
    Category.MESSAGE: "Messages and e-mails",
    Category.RECORD: "Other records",
}
ACTIVITY = frozenset({Category.VISIT, Category.TICKET, Category.CHAT, Category.ORDER,
                      Category.INVOICE, Category.PAYMENT, Category.SIGN_IN, Category.MESSAGE,
                      Category.RECORD})


def mask(value: str) -> str:
    """Hide all but the last few characters of a value, keeping its length readable."""
    visible = 4 if len(value) > 8 else 1 if len(value) > 3 else 0
    return "•" * (len(value) - visible) + value[len(value) - visible :]
