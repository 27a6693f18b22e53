"""The demo company's sources, as an instance would configure its own: WHMCS, Matomo and
Kayako through their APIs (the local stand-ins), live chats through the helpdesk database."""

from pathlib import Path
from typing import Any

from dsr.demo.company import build

MAPPINGS = Path(__file__).parent / "mappings"
STANDIN_PORTS = {"whmcs": 5101, "matomo": 5102, "kayako": 5103}
# Credentials of the stand-ins, which listen on 127.0.0.1 only and hold made-up people.
WHMCS_CREDENTIALS = ("demo-identifier", "demo-whmcs-secret")
MATOMO_TOKEN = "demo-matomo-token"  # noqa: S105
KAYAKO_KEYS = ("demo-api-key", "demo-kayako-secret")


def company_folder(instance_path: str) -> Path:
    """Where the demo company's databases live."""
    return Path(instance_path) / "demo-company"


def ensure_company(instance_path: str, rebuild: bool = False) -> bool:
    """Build the demo company's databases unless they exist; return whether it built them."""
    folder = company_folder(instance_path)
    if not rebuild and (folder / "analytics.sqlite").exists():
        return False
    build(folder)
    return True


# What the demo company declares of every processing (Art. 30(1)(e), (g); Art. 15(1)(h)).
IN_EEA = "None outside the EEA: every system runs in the company's data centre in Germany."
NO_AUTOMATED_DECISIONS = ("None: no decision about you is taken by automated means alone, "
                          "and no profiling with legal or similar effects takes place "
                          "(Art. 22).")
SECURITY = ("Access by named accounts with the least rights they need, encrypted connections "
            "and disks, daily encrypted back-ups, logs of administrative access.")


CONTROLLER = {"name": "CloudToko GmbH, Musterstraße 1, 10115 Berlin",
              "contact": "privacy@cloudtoko.example",
              "dpo": "Data-protection officer, dpo@cloudtoko.example"}
# dsr's own processing: the requests it handles, and legal's register of disclosures.
DSR_REGISTER = {
    "purposes": ["Answering requests about personal information (GDPR Art. 12-22)",
                 "Recording disclosures to public authorities"],
    "legal_basis": "Legal obligation (GDPR Art. 6(1)(c) with Art. 12-22 and 30)",
    "subjects": ["People who make a request", "Subjects of an authority's request"],
    "categories": ["name", "email", "ip", "address", "phone", "company", "id_details",
                   "bank_details", "visit", "ticket", "chat", "record", "message", "sign_in"],
    "retention": "As long as the request is handled, and as long as it must be proved after",
    "recipients": [],
    "origin": "Given by the requester; copied from the company's systems to answer",
    "transfers": IN_EEA,
    "automated_decisions": NO_AUTOMATED_DECISIONS,
    "security": SECURITY,
}


# The names the answer gives the demo company's systems.
TITLES = {
    "billing": "Customer accounts and billing (WHMCS)",
    "analytics": "Website analytics (Matomo)",
    "helpdesk": "Helpdesk (Kayako)",
    "chats": "Live chat on the websites",
}


def demo_sources(instance_path: str) -> dict[str, Any]:
    """The SOURCES setting of the demo company."""
    folder = company_folder(instance_path)
    local = "http://127.0.0.1"
    return {
        "billing": {
            "title": TITLES["billing"],
            "adapter": "whmcs",
            "settings": {"url": f"{local}:{STANDIN_PORTS['whmcs']}",
                         "identifier": WHMCS_CREDENTIALS[0], "secret": WHMCS_CREDENTIALS[1]},
            "identifies": "client",
            "register": {
                "purposes": ["Customer accounts, contracts and billing"],
                "legal_basis": "Performance of the contract (GDPR Art. 6(1)(b)); invoices "
                               "under a legal obligation (Art. 6(1)(c))",
                "retention": "While the contract runs and three years after; invoices ten "
                             "years, as tax law requires",
                "retention_days": 1095,
                "recipients": [
                    {"name": "Demo Bank AG (payments)", "email": "privacy@demo-bank.example"},
                    {"name": "Steuerberatung Muster (tax adviser)",
                     "email": "kanzlei@steuerberatung-muster.example"},
                ],
                "origin": "Given by the customer when signing up and in the client area",
                "subjects": ["Customers", "Their contacts"],
                "categories": ["name", "address", "email", "phone", "company", "id_details",
                               "bank_details", "ip", "order", "invoice", "message", "ticket"],
                "transfers": IN_EEA,
                "automated_decisions": NO_AUTOMATED_DECISIONS,
                "security": SECURITY,
            },
        },
        "analytics": {
            "title": TITLES["analytics"],
            "adapter": "matomo",
            "settings": {"url": f"{local}:{STANDIN_PORTS['matomo']}", "token": MATOMO_TOKEN},
            "register": {
                "purposes": ["Website analytics", "Support"],
                "legal_basis": "Legitimate interests (GDPR Art. 6(1)(f)): knowing how the "
                               "websites are used, on the company's own server",
                "retention": "Raw visit logs are deleted after 13 months",
                "retention_days": 396,
                "recipients": [],
                "origin": "Recorded by the company's own analytics software (Matomo, formerly "
                          "Piwik) when its websites are visited",
                "subjects": ["Visitors of the company's websites, customers among them"],
                "categories": ["ip", "visit"],
                "transfers": IN_EEA,
                "automated_decisions": NO_AUTOMATED_DECISIONS,
                "security": SECURITY,
            },
        },
        "helpdesk": {
            "title": TITLES["helpdesk"],
            "adapter": "kayako",
            "settings": {"url": f"{local}:{STANDIN_PORTS['kayako']}/api/index.php",
                         "api_key": KAYAKO_KEYS[0], "secret_key": KAYAKO_KEYS[1]},
            "register": {
                "purposes": ["Customer support"],
                "legal_basis": "Performance of the contract (GDPR Art. 6(1)(b))",
                "retention": "Two years after a ticket is closed",
                "retention_days": 730,
                "recipients": [],
                "origin": "Written by the customer or visitor in helpdesk tickets",
                "subjects": ["Customers", "Visitors who write to the helpdesk"],
                "categories": ["name", "email", "phone", "company", "ticket"],
                "transfers": IN_EEA,
                "automated_decisions": NO_AUTOMATED_DECISIONS,
                "security": SECURITY,
            },
        },
        "chats": {
            "title": TITLES["chats"],
            "adapter": "sql",
            "settings": {"url": f"sqlite:///{folder / 'helpdesk.sqlite'}",
                         "mapping_file": str(MAPPINGS / "helpdesk_chats.yaml")},
            "register": {
                "purposes": ["Support and pre-sales questions by live chat"],
                "legal_basis": "Legitimate interests (GDPR Art. 6(1)(f)): answering questions "
                               "visitors ask",
                "retention": "Two years after the chat",
                "retention_days": 730,
                "recipients": [],
                "origin": "Written by the visitor in the live chat on the websites",
                "subjects": ["Visitors who use the live chat", "Customers"],
                "categories": ["name", "email", "chat"],
                "transfers": IN_EEA,
                "automated_decisions": NO_AUTOMATED_DECISIONS,
                "security": SECURITY,
            },
        },
    }
