"""The demo company's own systems, as SQLite databases shaped like the real ones: a billing
portal like WHMCS, web analytics like Matomo, a helpdesk with live chat like Kayako Classic.

Deterministic: the same arguments build the same rows. A few subjects are interesting on
purpose (see INTERESTING): several e-mail addresses, a shared office IP, a ticket and a chat
that mention another customer.
"""

import random
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

FIRST = ["Ana", "Bram", "Chloé", "Dawit", "Eva", "Farid", "Greta", "Hana", "Ivo", "Jana", "Kofi",
         "Lena", "Marek", "Nora", "Omar", "Pia", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera",
         "Wim", "Xenia", "Yusuf", "Zofia"]
LAST = ["Lima", "de Vries", "Martin", "Bekele", "Novák", "Haddad", "Olsen", "Sato", "Horvat",
        "Kowalski", "Mensah", "Fischer", "Dvořák", "Berg", "Nasser", "Rossi", "Murphy",
        "Rivera", "Lund", "Singh", "Ali", "Petrova", "Jansen", "Ivanova", "Demir", "Nowak"]
CITIES = [("Berlin", "10115", "DE"), ("Amsterdam", "1011", "NL"), ("Lyon", "69001", "FR"),
          ("Brno", "60200", "CZ"), ("Aarhus", "8000", "DK"), ("Porto", "4000-001", "PT")]
PAGES = ["/", "/hosting", "/hosting/vps", "/domains", "/pricing", "/support", "/blog",
         "/blog/backups", "/contact", "/cart", "/clientarea.php", "/knowledgebase"]
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

# Customer numbers of the subjects that make the demo interesting.
SEVERAL_EMAILS = 1  # a contact row and a second helpdesk address besides the main one
SHARED_IP_A, SHARED_IP_B = 2, 3  # both work from one office: the same IP in their activity
MENTIONED = 5  # named in a ticket that customer 4 opened
MENTIONING = 4
OFFICE_IP = "198.51.100.77"


@dataclass(frozen=True)
class Customer:
    """One customer as the billing portal knows them."""

    id: int
    first: str
    last: str
    email: str
    phone: str
    company: str
    city: tuple[str, str, str]
    ip: str


def _slug(text: str) -> str:
    """Lower-case ASCII for an e-mail address: 'Dvořák' -> 'dvorak'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return ascii_text.lower().replace(" ", "")


def customers(count: int, seed: int = 7) -> list[Customer]:
    """Return the demo customers, the same every time for the same count and seed."""
    rng = random.Random(seed)
    people = []
    for number in range(1, count + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        slug = _slug(f"{first}.{last}")
        people.append(Customer(
            id=number, first=first, last=last,
            email=f"{slug}.{number}@example.com",
            phone=f"+49 30 {rng.randint(1000000, 9999999)}",
            company=rng.choice(["", "", f"{last} GmbH", f"{last} & Partners", f"{first} Studio"]),
            city=rng.choice(CITIES),
            ip=f"203.0.{number // 250}.{number % 250 + 1}",
        ))
    return people


def _moment(rng: random.Random, days: int = 300) -> datetime:
    return EPOCH + timedelta(seconds=rng.randint(0, days * 86400))


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def build_billing(path: Path, people: list[Customer], seed: int = 7) -> None:
    """Write the billing database: clients, contacts, bank accounts and the activity log."""
    rng = random.Random(seed + 1)
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE tblclients (id INTEGER PRIMARY KEY, firstname TEXT, lastname TEXT,
            companyname TEXT, email TEXT, address1 TEXT, city TEXT, postcode TEXT,
            country TEXT, phonenumber TEXT, tax_id TEXT, datecreated TEXT, status TEXT);
        CREATE INDEX tblclients_email ON tblclients (email);
        CREATE INDEX tblclients_phonenumber ON tblclients (phonenumber);
        CREATE TABLE tblcontacts (id INTEGER PRIMARY KEY, userid INTEGER, firstname TEXT,
            lastname TEXT, email TEXT, phonenumber TEXT);
        CREATE INDEX tblcontacts_userid ON tblcontacts (userid);
        CREATE INDEX tblcontacts_email ON tblcontacts (email);
        CREATE TABLE tblbankaccts (id INTEGER PRIMARY KEY, userid INTEGER, bank_name TEXT,
            acct_holder TEXT, iban TEXT);
        CREATE INDEX tblbankaccts_userid ON tblbankaccts (userid);
        CREATE TABLE tblactivitylog (id INTEGER PRIMARY KEY, date TEXT, description TEXT,
            user TEXT, userid INTEGER, ipaddr TEXT);
        CREATE INDEX tblactivitylog_userid ON tblactivitylog (userid);
    """)
    db.executemany(
        "INSERT INTO tblclients VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [(c.id, c.first, c.last, c.company, c.email, f"{rng.randint(1, 200)} Main Street",
          c.city[0], c.city[1], c.city[2], c.phone,
          f"{c.city[2]}{rng.randint(100000000, 999999999)}" if c.company else "",
          _stamp(_moment(rng, 30)), "Active") for c in people],
    )
    first = people[SEVERAL_EMAILS - 1]
    db.execute("INSERT INTO tblcontacts (userid, firstname, lastname, email, phonenumber) "
               "VALUES (?,?,?,?,?)", (first.id, first.first, first.last,
                                       f"billing@{_slug(first.last)}.example",
                                       first.phone))
    db.executemany(
        "INSERT INTO tblbankaccts (userid, bank_name, acct_holder, iban) VALUES (?,?,?,?)",
        [(c.id, "Demo Bank", f"{c.first} {c.last}",
          f"DE89 3704 0044 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)} 00")
         for c in people if c.id % 3 == 0],
    )
    log = []
    for c in people:
        for _ in range(rng.randint(1, 4)):
            ip = OFFICE_IP if c.id in (SHARED_IP_A, SHARED_IP_B) else c.ip
            log.append((_stamp(_moment(rng)), "Client Login", "Client", c.id, ip))
    db.executemany("INSERT INTO tblactivitylog (date, description, user, userid, ipaddr) "
                   "VALUES (?,?,?,?,?)", log)
    db.commit()
    db.close()


def build_analytics(path: Path, people: list[Customer], visits: int, seed: int = 7) -> None:
    """Write the analytics database: visits, the pages of each, and the action names."""
    rng = random.Random(seed + 2)
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE log_action (idaction INTEGER PRIMARY KEY, name TEXT, type INTEGER,
            url_prefix INTEGER);
        CREATE TABLE log_visit (idvisit INTEGER PRIMARY KEY, idsite INTEGER, idvisitor TEXT,
            user_id TEXT, location_ip TEXT, visit_first_action_time TEXT,
            visit_last_action_time TEXT, visit_total_time INTEGER, visit_total_actions INTEGER,
            config_browser_name TEXT, config_os TEXT, location_country TEXT);
        CREATE INDEX log_visit_user_id ON log_visit (user_id);
        CREATE INDEX log_visit_location_ip ON log_visit (location_ip);
        CREATE TABLE log_link_visit_action (idlink_va INTEGER PRIMARY KEY, idsite INTEGER,
            idvisit INTEGER, idaction_url INTEGER, server_time TEXT, time_spent INTEGER);
        CREATE INDEX log_link_visit_action_idvisit ON log_link_visit_action (idvisit);
    """)
    db.executemany("INSERT INTO log_action VALUES (?,?,1,2)",
                   [(i + 1, f"www.cloudtoko.eu{page}") for i, page in enumerate(PAGES)])
    rows, actions = [], []
    for idvisit in range(1, visits + 1):
        # Two visits in three come from a signed-in customer; the rest are anonymous visitors.
        customer = people[rng.randrange(len(people))] if rng.random() < 0.66 else None
        start = _moment(rng)
        pages = rng.randint(1, 6)
        spent = [rng.randint(5, 240) for _ in range(pages)]
        if customer and customer.id in (SHARED_IP_A, SHARED_IP_B):
            ip = OFFICE_IP
        else:
            ip = customer.ip if customer else f"192.0.2.{rng.randint(1, 254)}"
        rows.append((idvisit, 1, f"{rng.getrandbits(64):016x}",
                     str(customer.id) if customer else None, ip, _stamp(start),
                     _stamp(start + timedelta(seconds=sum(spent))), sum(spent), pages,
                     rng.choice(["Firefox", "Chrome", "Safari"]),
                     rng.choice(["Linux", "Windows", "macOS", "Android"]),
                     customer.city[2].lower() if customer else "de"))
        moment = start
        for seconds in spent:
            actions.append((1, idvisit, rng.randint(1, len(PAGES)), _stamp(moment), seconds))
            moment += timedelta(seconds=seconds)
    db.executemany("INSERT INTO log_visit VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.executemany("INSERT INTO log_link_visit_action (idsite, idvisit, idaction_url, "
                   "server_time, time_spent) VALUES (?,?,?,?,?)", actions)
    db.commit()
    db.close()


def build_helpdesk(path: Path, people: list[Customer], seed: int = 7) -> None:
    """Write the helpdesk database: users, their e-mail addresses, organisations, tickets,
    ticket posts and live-chat transcripts."""
    rng = random.Random(seed + 3)
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE swuserorganizations (userorganizationid INTEGER PRIMARY KEY,
            organizationname TEXT, address TEXT, city TEXT, postalcode TEXT, country TEXT,
            phone TEXT);
        CREATE TABLE swusers (userid INTEGER PRIMARY KEY, fullname TEXT, phone TEXT,
            userorganizationid INTEGER, designation TEXT, dateline INTEGER, lastvisit INTEGER);
        CREATE TABLE swuseremails (useremailid INTEGER PRIMARY KEY, linktype INTEGER,
            linktypeid INTEGER, email TEXT);
        CREATE INDEX swuseremails_email ON swuseremails (email);
        CREATE INDEX swuseremails_linktypeid ON swuseremails (linktypeid);
        CREATE TABLE swtickets (ticketid INTEGER PRIMARY KEY, ticketmaskid TEXT, userid INTEGER,
            fullname TEXT, email TEXT, subject TEXT, ipaddress TEXT, dateline INTEGER,
            lastactivity INTEGER);
        CREATE INDEX swtickets_userid ON swtickets (userid);
        CREATE INDEX swtickets_email ON swtickets (email);
        CREATE TABLE swticketposts (ticketpostid INTEGER PRIMARY KEY, ticketid INTEGER,
            userid INTEGER, fullname TEXT, email TEXT, ipaddress TEXT, contents TEXT,
            dateline INTEGER, creator INTEGER);
        CREATE INDEX swticketposts_ticketid ON swticketposts (ticketid);
        CREATE INDEX swticketposts_email ON swticketposts (email);
        CREATE TABLE swchatobjects (chatobjectid INTEGER PRIMARY KEY, userid INTEGER,
            userfullname TEXT, useremail TEXT, ipaddress TEXT, subject TEXT, transcript TEXT,
            dateline INTEGER);
        CREATE INDEX swchatobjects_useremail ON swchatobjects (useremail);
        CREATE INDEX swchatobjects_userid ON swchatobjects (userid);
    """)
    users = [c for c in people if c.id % 2 == 1 or c.id in (MENTIONING, MENTIONED)]
    for c in users:
        organisation = None
        if c.company:
            organisation = db.execute(
                "INSERT INTO swuserorganizations (organizationname, address, city, postalcode, "
                "country, phone) VALUES (?,?,?,?,?,?)",
                (c.company, "1 Office Park", *c.city, c.phone)).lastrowid
        db.execute("INSERT INTO swusers VALUES (?,?,?,?,?,?,?)",
                   (c.id, f"{c.first} {c.last}", c.phone, organisation, "",
                    int(_moment(rng).timestamp()), int(_moment(rng).timestamp())))
        db.execute("INSERT INTO swuseremails (linktype, linktypeid, email) VALUES (1,?,?)",
                   (c.id, c.email))
    several = people[SEVERAL_EMAILS - 1]
    db.execute("INSERT INTO swuseremails (linktype, linktypeid, email) VALUES (1,?,?)",
               (several.id, f"{several.first.lower()}@home.example"))
    subjects = ["Cannot log in", "Invoice question", "DNS not resolving", "Upgrade my VPS",
                "Backup restore", "SSL certificate renewal"]
    for c in users[: max(1, len(users) // 2)]:
        for _ in range(rng.randint(1, 2)):
            opened = _moment(rng)
            subject = rng.choice(subjects)
            text = f"Hello, {subject.lower()} on my account. Thanks, {c.first}"
            if c.id == MENTIONING:
                other = people[MENTIONED - 1]
                subject = "Transfer domain to a colleague"
                text = (f"Please move example-shop.eu to my colleague {other.first} "
                        f"{other.last} ({other.email}), customer {other.id}.")
            ticket = db.execute(
                "INSERT INTO swtickets (ticketmaskid, userid, fullname, email, subject, "
                "ipaddress, dateline, lastactivity) VALUES (?,?,?,?,?,?,?,?)",
                (f"TKT-{rng.randint(100, 999)}-{rng.randint(10000, 99999)}", c.id,
                 f"{c.first} {c.last}", c.email, subject, c.ip, int(opened.timestamp()),
                 int(opened.timestamp()) + 3600)).lastrowid
            db.execute("INSERT INTO swticketposts (ticketid, userid, fullname, email, "
                       "ipaddress, contents, dateline, creator) VALUES (?,?,?,?,?,?,?,1)",
                       (ticket, c.id, f"{c.first} {c.last}", c.email, c.ip, text,
                        int(opened.timestamp())))
            db.execute("INSERT INTO swticketposts (ticketid, userid, fullname, email, "
                       "ipaddress, contents, dateline, creator) VALUES (?,0,?,?,?,?,?,2)",
                       (ticket, "Support Team", "support@cloudtoko.eu", "10.0.0.5",
                        f"Hi {c.first}, we are on it.", int(opened.timestamp()) + 1800))
    for c in users[::3]:
        started = _moment(rng)
        db.execute("INSERT INTO swchatobjects (userid, userfullname, useremail, ipaddress, "
                   "subject, transcript, dateline) VALUES (?,?,?,?,?,?,?)",
                   (c.id, f"{c.first} {c.last}", c.email, c.ip, "Pre-sales question",
                    f"{c.first}: Do you offer daily backups?\nSupport: Yes, on every plan.",
                    int(started.timestamp())))
    # The customer whose ticket names a colleague names them in a chat too, with their
    # address and telephone number: what the subject's answer must not reveal (Art. 15(4)).
    me, other = people[MENTIONING - 1], people[MENTIONED - 1]
    db.execute("INSERT INTO swchatobjects (userid, userfullname, useremail, ipaddress, "
               "subject, transcript, dateline) VALUES (?,?,?,?,?,?,?)",
               (me.id, f"{me.first} {me.last}", me.email, me.ip, "Access for a colleague",
                f"{me.first}: Can my colleague {other.first} {other.last} ({other.email}, "
                f"{other.phone}) manage our domains too?\n"
                "Support: Yes: add them as a contact in the client area.",
                int((EPOCH + timedelta(days=40)).timestamp())))
    db.commit()
    db.close()


def build(folder: Path, customers_count: int = 1000, visits: int = 100_000, seed: int = 7
          ) -> list[Customer]:
    """Build all three databases in `folder` (replacing old ones); return the customers."""
    folder.mkdir(parents=True, exist_ok=True)
    people = customers(customers_count, seed)
    for name, builder in (("billing", build_billing), ("helpdesk", build_helpdesk)):
        path = folder / f"{name}.sqlite"
        path.unlink(missing_ok=True)
        builder(path, people, seed)
    path = folder / "analytics.sqlite"
    path.unlink(missing_ok=True)
    build_analytics(path, people, visits, seed)
    return people
