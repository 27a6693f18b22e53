"""What a subject's answer must not reveal of other people (GDPR Art. 15(4)), taken out of free
text before it is stored: one mechanism for every source.

Free text is the value and the details of an activity finding (a ticket, a chat, a message),
never a structured fact. In it, these are replaced by "[another person]":

- e-mail addresses that are neither the subject's nor the company's own (STAFF_EMAIL_DOMAINS);
- telephone numbers written as a telephone number is ("+49 30 1234567", "030 1234567",
  "(030) 1234567": a leading + or 0, 8 to 15 digits), not the subject's own;
- IBANs (two letters, two check digits, groups of four), not the subject's own;
- customer numbers where the text says so: "customer 5", "customer no. 5", "customer number
  5", "customer #5", "client 5", "Kundennummer 5"; a bare "#5" is left, it as often names a
  ticket or an order;
- the names of other known people, matched whole, on word boundaries, regardless of case and
  accents ("Chloe Dvorak" is "Chloé Dvořák"): the names the same record attaches to another
  person's address ("Eva Novák <eva@…>", "Eva Novák (eva@…)"), and the names the collection
  knows are other people's (see dsr.collection: the people behind dsr's other requests and
  what their sources call them). Only full names count (two words at least): a lone first
  name is left. The subject's own names are never among them, nor is anyone not known: staff
  writing as themselves ("Support Team") are kept.

The subject's own identifiers, and every word that is not one of the above, are kept.
"""

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from dsr.adapters import Finding, SubjectIdentity
from dsr.categories import Category

ANOTHER_PERSON = "[another person]"
# The structured facts a source holds on the subject that free text may repeat as theirs.
OWN_FACTS = (Category.EMAIL, Category.PHONE, Category.BANK_DETAILS, Category.NAME)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b")
_PHONE = re.compile(r"(?<![\w+])\(?(?:\+|0)\d[\d ./()-]{5,20}\d(?!\w)")
_DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")
_DIGIT = re.compile(r"\d")
_CUSTOMER = re.compile(
    r"\b(?:customer|client|kunde)(?:[ -]?(?:no\.?|nr\.?|number|id|nummer))?\s*#?\s*(\d{1,10})\b"
    r"|\bkunden-?(?:nummer|nr\.?)\s*#?\s*(\d{1,10})\b",
    re.IGNORECASE)
# Values that name nobody: a date or a time as databases write them, an amount or a count of
# fewer digits than a telephone number has. Most details of activity are such; they are kept
# without a look (and a time's fraction of a second is never taken for a number).
_PLAIN = re.compile(r"\d{1,7}(?:[.,]\d{1,2})?"
                    r"|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?"
                    r"(?: ?(?:Z|UTC|[+-]\d{2}:?\d{2}))?")
# Lower-case words that belong inside a name ("Bram de Vries", "Ludwig van der Berg").
_PARTICLES = frozenset({"de", "van", "von", "der", "den", "da", "di", "du", "le", "la", "ter",
                        "ten", "del", "dos", "bin", "al"})
_NAME_WORD = re.compile(r"^[^\W\d_][\w'\u2019-]*$")


def folded(text: str) -> str:
    """Lower-case `text` without accents, for comparing names: 'Dvořák' -> 'dvorak'."""
    return _fold(text)[0]


def _fold(text: str) -> tuple[str, Sequence[int]]:
    """`text` folded, and for each folded character the position of the original it came from."""
    if text.isascii():  # most text: one character each, in place
        return text.lower(), range(len(text))
    chars: list[str] = []
    origin: list[int] = []
    for position, char in enumerate(text):
        plain = _fold_char(char)
        chars.append(plain)
        origin.extend([position] * len(plain))
    return "".join(chars), origin


@functools.cache
def _fold_char(char: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", char)
                   if not unicodedata.combining(c)).casefold()


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _same_phone(number: str, own: str) -> bool:
    """Tell whether two numbers' digits are one telephone number, written with or without
    the country code ('030 1234567' is '+49 30 1234567')."""
    if number.startswith("00"):
        number = number[2:]
    if number == own:
        return True
    national, other = (number, own) if number.startswith("0") else (own, number)
    return national.startswith("0") and len(national) > 6 and other.endswith(national[1:])


def attached_names(text: str, others: Iterable[str]) -> set[str]:
    """The names written right before one of `others` (e-mail addresses) in `text`, as in
    'Eva Novák <eva@example.com>': up to three name words, at least two of them."""
    names: set[str] = set()
    for address in others:
        for found in re.finditer(r"[<(]\s*" + re.escape(address), text):
            words = text[:found.start()].split()[-3:]
            while words and not _is_name_word(words[0]):
                words.pop(0)
            if len(words) >= 2 and all(_is_name_word(w) or w in _PARTICLES for w in words):
                names.update(" ".join(words[i:]) for i in range(len(words) - 1)
                             if _is_name_word(words[i]))
    return names


def _full_name(name: str) -> bool:
    """Tell whether a name is whole enough to look for: two words of two letters or more (a
    lone "Support" or "Eva" would take out far more than one person)."""
    return len([w for w in name.split() if len(w) >= 2]) >= 2


def _is_name_word(word: str) -> bool:
    return bool(_NAME_WORD.match(word)) and word[0].isupper()


@dataclass(frozen=True)
class Redaction:
    """What is the subject's own, whom else free text may name, and the company's own e-mail
    domains: enough to take other people out of a finding's free text."""

    own: SubjectIdentity
    own_ibans: frozenset[str] = frozenset()
    own_names: frozenset[str] = frozenset()
    other_names: frozenset[str] = frozenset()
    staff_domains: frozenset[str] = frozenset()

    @classmethod
    def of(cls, own: SubjectIdentity, *, ibans: Iterable[str] = (), names: Iterable[str] = (),
           others: Iterable[str] = (), staff_domains: Iterable[str] = ()) -> "Redaction":
        """Build one from the subject's identifiers and names, and other people's names."""
        own_names = frozenset(" ".join(folded(n).split()) for n in names if n.strip())
        return cls(
            own=own,
            own_ibans=frozenset(i.replace(" ", "").upper() for i in ibans),
            own_names=own_names,
            other_names=frozenset(n for n in (" ".join(folded(o).split()) for o in others)
                                  if _full_name(n) and n not in own_names),
            staff_domains=frozenset(d.lower().lstrip("@") for d in staff_domains))

    @classmethod
    def beside(cls, subject: SubjectIdentity, facts: Iterable[tuple[Category, str]], *,
               names: Iterable[str] = (), others: Iterable[str] = (),
               staff_domains: Iterable[str] = ()) -> "Redaction":
        """Build one for `subject`, whose own are also the structured facts sources hold on
        them (a source returns only the subject's): e-mail addresses, telephone numbers,
        IBANs and names."""
        facts = list(facts)
        own = replace(subject,
                      emails=subject.emails | {v.lower() for c, v in facts if c == Category.EMAIL},
                      phones=subject.phones | {v for c, v in facts if c == Category.PHONE})
        return cls.of(own, ibans=[v for c, v in facts if c == Category.BANK_DETAILS],
                      names=[*names, *(v for c, v in facts if c == Category.NAME)],
                      others=others, staff_domains=staff_domains)

    def finding(self, finding: Finding) -> Finding:
        """The finding with other people taken out of its free text (an activity's value and
        details); any other finding as it is."""
        if not finding.category.is_activity:
            return finding
        texts = [finding.value, *map(str, finding.context.values())]
        attached = {folded(n) for t in texts
                    for n in attached_names(t, self._others_emails(t))} - self.own_names
        names = self.other_names | attached if attached else self.other_names
        value = self.text(finding.value, names)
        context = {key: self.text(str(text), names) for key, text in finding.context.items()}
        if value == finding.value and context == finding.context:
            return finding  # most: nobody else named
        return replace(finding, value=value, context=context)

    def text(self, text: str, names: Iterable[str] | None = None) -> str:
        """`text` with other people's identifiers and the names in `names` (default: those
        known) replaced by ANOTHER_PERSON."""
        if _PLAIN.fullmatch(text):
            return text
        if "@" in text:
            text = _EMAIL.sub(lambda m: m.group(0) if self._own_email(m.group(0))
                              else ANOTHER_PERSON, text)
        if _DIGIT.search(text):  # an IBAN, a telephone or a customer number has digits
            text = _IBAN.sub(lambda m: m.group(0) if m.group(0).replace(" ", "")
                             in self.own_ibans else ANOTHER_PERSON, text)
            text = _PHONE.sub(self._phone, text)
            text = _CUSTOMER.sub(lambda m: m.group(0) if (m.group(1) or m.group(2))
                                 in self.own.customer_ids else ANOTHER_PERSON, text)
        return _without_names(text, self.other_names if names is None
                              else names if isinstance(names, frozenset) else frozenset(names))

    def _own_email(self, address: str) -> bool:
        address = address.lower()
        return address in self.own.emails or address.rpartition("@")[2] in self.staff_domains

    def _others_emails(self, text: str) -> list[str]:
        if "@" not in text:
            return []
        return [m.group(0) for m in _EMAIL.finditer(text) if not self._own_email(m.group(0))]

    def _phone(self, match: re.Match[str]) -> str:
        written = match.group(0)
        digits = _digits(written)
        if not 8 <= len(digits) <= 15 or _DATE.fullmatch(written.strip("()")) \
                or _inside(match, _EMAIL, _IBAN):
            return written
        if any(_same_phone(digits, _digits(own)) for own in self.own.phones if _digits(own)):
            return written
        return ANOTHER_PERSON


def _inside(match: re.Match[str], *patterns: re.Pattern[str]) -> bool:
    """Tell whether the match is part of something else `patterns` find (the subject's own
    IBAN or address, kept, that holds digits)."""
    return any(other.start() <= match.start() and match.end() <= other.end()
               for pattern in patterns for other in pattern.finditer(match.string))


def _without_names(text: str, names: frozenset[str]) -> str:
    """`text` with every whole occurrence of `names` (folded) replaced by ANOTHER_PERSON."""
    if not names:
        return text
    plain, origin = _fold(text)
    spaced = " ".join(plain.split())  # a quick look first: names are rarely there
    present = sorted((n for n in names if " ".join(n.split()) in spaced), key=len, reverse=True)
    if not present:
        return text
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(
        r"\s+".join(map(re.escape, name.split())) for name in present) + r")(?!\w)")
    spans = [(origin[m.start()], origin[m.end() - 1] + 1) for m in pattern.finditer(plain)]
    for start, end in reversed(spans):
        text = text[:start] + ANOTHER_PERSON + text[end:]
    return text
