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


def demo_sources(instance_path: str) -> dict[str, Any]:
    """The SOURCES setting of the demo company."""
    folder = company_folder(instance_path)
    local = "http://127.0.0.1"
    return {
        "billing": {
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
                "recipients": [
                    {"name": "Demo Bank AG (payments)", "email": "privacy@demo-bank.example"},
                    {"name": "Steuerberatung Muster (tax adviser)",
                     "email": "kanzlei@steuerberatung-muster.example"},
                ],
                "origin": "Given by the customer when signing up and in the client area",
            },
        },
        "analytics": {
            "adapter": "matomo",
            "settings": {"url": f"{local}:{STANDIN_PORTS['matomo']}", "token": MATOMO_TOKEN},
            "register": {
                "purposes": ["Website analytics", "Support"],
                "legal_basis": "Legitimate interests (GDPR Art. 6(1)(f)): knowing how the "
                               "websites are used, on the company's own server",
                "retention": "Raw visit logs are deleted after 13 months",
                "recipients": [],
                "origin": "Recorded by the company's own analytics software (Matomo, formerly "
                          "Piwik) when its websites are visited",
            },
        },
        "helpdesk": {
            "adapter": "kayako",
            "settings": {"url": f"{local}:{STANDIN_PORTS['kayako']}/api/index.php",
                         "api_key": KAYAKO_KEYS[0], "secret_key": KAYAKO_KEYS[1]},
            "register": {
                "purposes": ["Customer support"],
                "legal_basis": "Performance of the contract (GDPR Art. 6(1)(b))",
                "retention": "Two years after a ticket is closed",
                "recipients": [],
                "origin": "Written by the customer or visitor in helpdesk tickets",
            },
        },
        "chats": {
            "adapter": "sql",
            "settings": {"url": f"sqlite:///{folder / 'helpdesk.sqlite'}",
                         "mapping_file": str(MAPPINGS / "helpdesk_chats.yaml")},
            "register": {
                "purposes": ["Support and pre-sales questions by live chat"],
                "legal_basis": "Legitimate interests (GDPR Art. 6(1)(f)): answering questions "
                               "visitors ask",
                "retention": "Two years after the chat",
                "recipients": [],
                "origin": "Written by the visitor in the live chat on the websites",
            },
        },
    }
