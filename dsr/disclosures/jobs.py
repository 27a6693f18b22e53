"""Jobs of the disclosure workflow: tell the subjects of disclosures whose gag order
lapsed."""

from dsr import disclosures
from dsr.actors import SYSTEM


def notify_due() -> None:
    """Tell the subjects whose gag order lapsed (daily)."""
    disclosures.notify_due(SYSTEM)
