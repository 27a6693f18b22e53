"""The demo company's own systems, as SQLite databases shaped like the real ones: a billing
portal like WHMCS, web analytics like Matomo, a helpdesk with live chat like Kayako Classic.

Deterministic: the same arguments build the same rows. A few subjects are interesting on
purpose (see INTERESTING): several e-mail addresses, a shared office IP, a ticket and a chat
that mention another customer.
"""

import hashlib
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

# A visitor of the websites who never became a customer: the analytics visitor ID their
# browser carries (Matomo's _pk_id cookie), the address only they used (home), and a café's
# address that several other anonymous browsers used as well. Their visits are few dozen.
VISITOR_EMAIL = "mila.besucher@example.net"
VISITOR_ID = "5f3c9a1e7b2d4c60"
VISITOR_IP = "198.51.100.23"
CAFE_IP = "198.51.100.140"
VISITOR_HOME_VISITS, VISITOR_CAFE_VISITS, CAFE_STRANGERS = 30, 6, 4


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


# What the billing portal sells: product groups, and products with their monthly price.
PRODUCT_GROUPS = ["Web Hosting", "Virtual Servers"]
PRODUCTS = [("Shared Hosting Basic", 1, "4.99"), ("Shared Hosting Pro", 1, "9.99"),
            ("VPS S", 2, "14.00"), ("VPS M", 2, "28.00")]
DOMAIN_PRICE = "12.00"  # a year
CARD_TYPES = ["Visa", "MasterCard", "American Express"]
BILLING_DEPARTMENTS = ["Billing", "Sales"]


def build_billing(path: Path, people: list[Customer], seed: int = 7) -> None:
    """Write the billing database: clients, contacts, pay methods (bank accounts and cards),
    the activity log, services, domains, invoices, the e-mails sent and tickets.

    Customers whose number is divisible by 3 pay by bank account and hold a service or two, a
    domain and a ticket; those with remainder 2 pay by card and hold one service; the rest
    have an account and nothing bought."""
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
        CREATE TABLE tblcreditcards (id INTEGER PRIMARY KEY, userid INTEGER, card_type TEXT,
            last_four TEXT, expiry_date TEXT);
        CREATE TABLE tblpaymethods (id INTEGER PRIMARY KEY, userid INTEGER, description TEXT,
            payment_type TEXT, payment_id INTEGER, gateway_name TEXT, created_at TEXT);
        CREATE INDEX tblpaymethods_userid ON tblpaymethods (userid);
        CREATE TABLE tblproductgroups (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE tblproducts (id INTEGER PRIMARY KEY, gid INTEGER, name TEXT,
            type TEXT, monthly TEXT);
        CREATE TABLE tblhosting (id INTEGER PRIMARY KEY, userid INTEGER, packageid INTEGER,
            regdate TEXT, domain TEXT, paymentmethod TEXT, firstpaymentamount TEXT,
            amount TEXT, billingcycle TEXT, nextduedate TEXT, domainstatus TEXT);
        CREATE INDEX tblhosting_userid ON tblhosting (userid);
        CREATE TABLE tbldomains (id INTEGER PRIMARY KEY, userid INTEGER, type TEXT,
            registrationdate TEXT, domain TEXT, firstpaymentamount TEXT,
            recurringamount TEXT, registrar TEXT, registrationperiod INTEGER,
            expirydate TEXT, nextduedate TEXT, status TEXT, paymentmethod TEXT);
        CREATE INDEX tbldomains_userid ON tbldomains (userid);
        CREATE TABLE tblinvoices (id INTEGER PRIMARY KEY, userid INTEGER, invoicenum TEXT,
            date TEXT, duedate TEXT, datepaid TEXT, subtotal TEXT, tax TEXT, total TEXT,
            status TEXT, paymentmethod TEXT);
        CREATE INDEX tblinvoices_userid ON tblinvoices (userid);
        CREATE TABLE tblinvoiceitems (id INTEGER PRIMARY KEY, invoiceid INTEGER,
            userid INTEGER, type TEXT, relid INTEGER, description TEXT, amount TEXT);
        CREATE INDEX tblinvoiceitems_invoiceid ON tblinvoiceitems (invoiceid);
        CREATE TABLE tblemails (id INTEGER PRIMARY KEY, userid INTEGER, subject TEXT,
            message TEXT, date TEXT, "to" TEXT, cc TEXT, bcc TEXT);
        CREATE INDEX tblemails_userid ON tblemails (userid);
        CREATE TABLE tblticketdepartments (id INTEGER PRIMARY KEY, name TEXT, email TEXT);
        CREATE TABLE tbltickets (id INTEGER PRIMARY KEY, tid TEXT, did INTEGER,
            userid INTEGER, name TEXT, email TEXT, date TEXT, title TEXT, message TEXT,
            status TEXT, urgency TEXT, lastreply TEXT);
        CREATE INDEX tbltickets_userid ON tbltickets (userid);
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
    # What customers bought and were sent, from its own generator: the rows above stay as
    # they were before these tables existed.
    rng = random.Random(seed + 4)
    db.executemany("INSERT INTO tblproductgroups (name) VALUES (?)",
                   [(name,) for name in PRODUCT_GROUPS])
    db.executemany("INSERT INTO tblproducts (gid, name, type, monthly) VALUES (?,?,?,?)",
                   [(gid, name, "hostingaccount" if gid == 1 else "server", price)
                    for name, gid, price in PRODUCTS])
    db.executemany("INSERT INTO tblticketdepartments (name, email) VALUES (?,?)",
                   [(name, f"{name.lower()}@demo-hosting.example")
                    for name in BILLING_DEPARTMENTS])
    banks = dict(db.execute("SELECT userid, id FROM tblbankaccts"))
    for c in people:
        if c.id % 3 == 1:
            continue
        joined = EPOCH + timedelta(days=rng.randint(0, 150))
        if c.id in banks:
            gateway, payment = "banktransfer", ("BankAccount", banks[c.id])
        else:
            card = db.execute(
                "INSERT INTO tblcreditcards (userid, card_type, last_four, expiry_date) "
                "VALUES (?,?,?,?)", (c.id, rng.choice(CARD_TYPES), f"{rng.randint(0, 9999):04d}",
                                     f"{rng.randint(1, 12):02d}/{rng.randint(27, 31)}"))
            gateway, payment = "stripe", ("CreditCard", card.lastrowid)
        db.execute("INSERT INTO tblpaymethods (userid, description, payment_type, payment_id, "
                   "gateway_name, created_at) VALUES (?,?,?,?,?,?)",
                   (c.id, "", *payment, gateway, _stamp(joined)))
        site = f"{_slug(c.last)}{c.id}.example"
        bought = []  # (item type, id, description, price, first month)
        for _ in range(rng.randint(1, 2) if c.id in banks else 1):
            product = rng.randrange(len(PRODUCTS))
            name, _, price = PRODUCTS[product]
            months = rng.randint(1, 3)
            service = db.execute(
                "INSERT INTO tblhosting (userid, packageid, regdate, domain, paymentmethod, "
                "firstpaymentamount, amount, billingcycle, nextduedate, domainstatus) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)",
                (c.id, product + 1, joined.date().isoformat(), site, gateway, price, price,
                 "Monthly", (joined + timedelta(days=30 * months)).date().isoformat(),
                 "Active")).lastrowid
            bought += [("Hosting", service, f"{name} - {site}", price, month)
                       for month in range(months)]
        if c.id in banks:
            domain = db.execute(
                "INSERT INTO tbldomains (userid, type, registrationdate, domain, "
                "firstpaymentamount, recurringamount, registrar, registrationperiod, "
                "expirydate, nextduedate, status, paymentmethod) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (c.id, "Register", joined.date().isoformat(), site, DOMAIN_PRICE, DOMAIN_PRICE,
                 "demoregistrar", 1, (joined + timedelta(days=365)).date().isoformat(),
                 (joined + timedelta(days=365)).date().isoformat(), "Active",
                 gateway)).lastrowid
            bought.append(("DomainRegister", domain, f"Domain Registration - {site} - 1 Year",
                           DOMAIN_PRICE, 0))
        emails = [(c.id, "Welcome to Demo Hosting",
                   f"<p>Dear {c.first},</p><p>Thank you for your order. Your services are "
                   f"being set up.</p>", _stamp(joined))]
        for month in sorted({item[4] for item in bought}):
            issued = joined + timedelta(days=30 * month)
            items = [item for item in bought if item[4] == month]
            total = f"{sum(float(item[3]) for item in items):.2f}"
            unpaid = month == max(i[4] for i in bought) and rng.random() < 0.3
            invoice = db.execute(
                "INSERT INTO tblinvoices (userid, invoicenum, date, duedate, datepaid, "
                "subtotal, tax, total, status, paymentmethod) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (c.id, "", issued.date().isoformat(),
                 (issued + timedelta(days=14)).date().isoformat(),
                 "0000-00-00 00:00:00" if unpaid else _stamp(issued + timedelta(days=2)),
                 total, "0.00", total, "Unpaid" if unpaid else "Paid", gateway)).lastrowid
            number = f"{issued.year}-{invoice:05d}"
            db.execute("UPDATE tblinvoices SET invoicenum = ? WHERE id = ?", (number, invoice))
            db.executemany(
                "INSERT INTO tblinvoiceitems (invoiceid, userid, type, relid, description, "
                "amount) VALUES (?,?,?,?,?,?)",
                [(invoice, c.id, kind, relid, description, price)
                 for kind, relid, description, price, _ in items])
            emails.append((c.id, f"Customer Invoice #{number}",
                           f"<p>Dear {c.first},</p><p>This is a notice that invoice "
                           f"#{number} of {total} EUR was generated on "
                           f"{issued.date().isoformat()}.</p><p>Payment method: {gateway}</p>",
                           _stamp(issued)))
        db.executemany('INSERT INTO tblemails (userid, subject, message, date, "to", cc, bcc) '
                       "VALUES (?,?,?,?,?,'','')", [(*e, c.email) for e in emails])
        if c.id in banks:
            opened = joined + timedelta(days=rng.randint(1, 40))
            db.execute(
                "INSERT INTO tbltickets (tid, did, userid, name, email, date, title, message, "
                "status, urgency, lastreply) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (f"{rng.randint(100000, 999999)}", rng.randint(1, len(BILLING_DEPARTMENTS)),
                 c.id, f"{c.first} {c.last}", c.email, _stamp(opened),
                 "Question about my invoice", "Can I pay yearly instead of monthly?",
                 rng.choice(["Answered", "Closed"]), "Medium",
                 _stamp(opened + timedelta(hours=rng.randint(1, 30)))))
    db.commit()
    db.close()


# What the analytics records of a city (Matomo's region code, rounded coordinates), of a
# visitor's language, and of their device, browser and system, as Matomo stores them.
CITY_PLACES = {"Berlin": ("BE", 52.52, 13.41), "Amsterdam": ("NH", 52.37, 4.9),
               "Lyon": ("ARA", 45.76, 4.84), "Brno": ("64", 49.2, 16.61),
               "Aarhus": ("82", 56.16, 10.2), "Porto": ("13", 41.15, -8.61)}
LANGUAGES = {"DE": "de-de,de;q=0.9,en;q=0.8", "NL": "nl-nl,nl;q=0.9,en;q=0.8",
             "FR": "fr-fr,fr;q=0.9,en;q=0.7", "CZ": "cs-cz,cs;q=0.9,en;q=0.8",
             "DK": "da-dk,da;q=0.9,en;q=0.8", "PT": "pt-pt,pt;q=0.9,en;q=0.8"}
BROWSER_CODES = {"Firefox": ("FF", "132.0"), "Chrome": ("CH", "131.0"), "Safari": ("SF", "18.1")}
SYSTEM_CODES = {"Linux": ("LIN", ""), "Windows": ("WIN", "11"), "macOS": ("MAC", "14.6"),
                "Android": ("AND", "14")}
# Device type (Matomo's number), brand, model and screen, by system.
DEVICES = {"Linux": [(0, "", "", "1920x1080"), (0, "", "", "2560x1440")],
           "Windows": [(0, "", "", "1920x1080"), (0, "", "", "1366x768"),
                       (0, "Dell", "", "1920x1200")],
           "macOS": [(0, "Apple", "MacBook", "1512x982"), (0, "Apple", "iMac", "2560x1440")],
           "Android": [(1, "Samsung", "Galaxy S23", "360x780"), (1, "Google", "Pixel 8",
                                                                  "412x915"),
                       (2, "Samsung", "Galaxy Tab S9", "800x1280")]}
# Referrer type (1 direct, 2 search engine, 3 website, 6 campaign), name, URL and keyword.
REFERRERS = [(1, "", "", ""), (1, "", "", ""), (1, "", "", ""),
             (2, "Google", "https://www.google.com/", ""),
             (2, "DuckDuckGo", "https://duckduckgo.com/", ""),
             (2, "Bing", "https://www.bing.com/search?q=vps+hosting+germany",
              "vps hosting germany"),
             (3, "forum.example.org", "https://forum.example.org/t/which-vps-host/4711", ""),
             (6, "newsletter-2026-05", "", "spring-offer")]
VISIT_COLUMNS = (
    "idvisit", "idsite", "idvisitor", "user_id", "location_ip", "visit_first_action_time",
    "visit_last_action_time", "visit_total_time", "visit_total_actions",
    "visit_entry_idaction_url", "visit_exit_idaction_url", "visitor_localtime",
    "visitor_count_visits", "visitor_returning", "referer_type", "referer_name", "referer_url",
    "referer_keyword", "config_id", "config_browser_name", "config_browser_version",
    "config_os", "config_os_version", "config_device_type", "config_device_brand",
    "config_device_model", "config_resolution", "location_browser_lang", "location_country",
    "location_region", "location_city", "location_latitude", "location_longitude")


def account_visitor_id(customer: Customer) -> str:
    """The visitor ID Matomo gives a signed-in user: the first 16 hex digits of the SHA-1 of
    their user ID."""
    return hashlib.sha1(str(customer.id).encode()).hexdigest()[:16]  # noqa: S324 (Matomo's)


def _visit(detail: random.Random, idvisit: int, visitor: str,
           customer: Customer | None, ip: str, start: datetime, spent: list[int],
           browser: str, system: str, city: tuple[str, str, str]) -> dict[str, object]:
    """One row of log_visit, with the details Matomo records of the browser and the place."""
    device = detail.choice(DEVICES[system])
    referrer = detail.choice(REFERRERS)
    region, latitude, longitude = CITY_PLACES[city[0]]
    return dict(zip(VISIT_COLUMNS, (
        idvisit, 1, visitor, str(customer.id) if customer else None, ip, _stamp(start),
        _stamp(start + timedelta(seconds=sum(spent))), sum(spent), len(spent), None, None,
        (start + timedelta(hours=1)).strftime("%H:%M:%S"), 1, 0, *referrer,
        f"{detail.getrandbits(64):016x}", *BROWSER_CODES[browser], *SYSTEM_CODES[system],
        *device, LANGUAGES[city[2]], city[2].lower(), region, city[0], latitude, longitude),
        strict=True))


def _count_visits(rows: list[dict[str, object]]) -> None:
    """Number each visitor's visits in time order, as Matomo counts them, and mark returning
    visitors (2: a returning customer)."""
    seen: dict[object, int] = {}
    for row in sorted(rows, key=lambda r: (str(r["idvisitor"]), str(r["visit_first_action_time"]))):
        count = seen[row["idvisitor"]] = seen.get(row["idvisitor"], 0) + 1
        row["visitor_count_visits"] = count
        row["visitor_returning"] = 0 if count == 1 else 2 if row["user_id"] else 1


def _visitor_rows(detail: random.Random) -> list[tuple[str, str, datetime]]:
    """The demo visitor's visits (home and café) and the café's other browsers': visitor ID,
    IP address and start of each."""
    start = datetime(2026, 2, 2, 18, 30, tzinfo=UTC)
    visits = [(VISITOR_ID, VISITOR_IP, start + timedelta(days=8 * n, minutes=7 * n))
              for n in range(VISITOR_HOME_VISITS)]
    visits += [(VISITOR_ID, CAFE_IP, start + timedelta(days=31 * n + 3, hours=-8))
               for n in range(VISITOR_CAFE_VISITS)]
    strangers = [f"{detail.getrandbits(64):016x}" for _ in range(CAFE_STRANGERS)]
    visits += [(strangers[n % CAFE_STRANGERS], CAFE_IP,
                start + timedelta(days=9 * n + 3, hours=-7)) for n in range(4 * CAFE_STRANGERS)]
    return visits


def build_analytics(path: Path, people: list[Customer], visits: int, seed: int = 7) -> None:
    """Write the analytics database: visits with every column the demo needs, the pages of
    each, and the action names; the demo visitor's visits come last."""
    rng = random.Random(seed + 2)
    detail = random.Random(seed + 3)  # a stream of its own, so the visits stay as they were
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE log_action (idaction INTEGER PRIMARY KEY, name TEXT, type INTEGER,
            url_prefix INTEGER);
        CREATE TABLE log_visit (idvisit INTEGER PRIMARY KEY, idsite INTEGER, idvisitor TEXT,
            user_id TEXT, location_ip TEXT, visit_first_action_time TEXT,
            visit_last_action_time TEXT, visit_total_time INTEGER, visit_total_actions INTEGER,
            visit_entry_idaction_url INTEGER, visit_exit_idaction_url INTEGER,
            visitor_localtime TEXT, visitor_count_visits INTEGER, visitor_returning INTEGER,
            referer_type INTEGER, referer_name TEXT, referer_url TEXT, referer_keyword TEXT,
            config_id TEXT, config_browser_name TEXT, config_browser_version TEXT,
            config_os TEXT, config_os_version TEXT, config_device_type INTEGER,
            config_device_brand TEXT, config_device_model TEXT, config_resolution TEXT,
            location_browser_lang TEXT, location_country TEXT, location_region TEXT,
            location_city TEXT, location_latitude REAL, location_longitude REAL);
        CREATE INDEX log_visit_user_id ON log_visit (user_id);
        CREATE INDEX log_visit_location_ip ON log_visit (location_ip);
        CREATE INDEX log_visit_idvisitor ON log_visit (idvisitor);
        CREATE TABLE log_link_visit_action (idlink_va INTEGER PRIMARY KEY, idsite INTEGER,
            idvisit INTEGER, idaction_url INTEGER, server_time TEXT, time_spent INTEGER);
        CREATE INDEX log_link_visit_action_idvisit ON log_link_visit_action (idvisit);
    """)
    db.executemany("INSERT INTO log_action VALUES (?,?,1,2)",
                   [(i + 1, f"www.cloudtoko.eu{page}") for i, page in enumerate(PAGES)])
    rows, actions = [], []

    def pages_of(row: dict[str, object], start: datetime, spent: list[int]) -> None:
        moment, seen = start, []
        for seconds in spent:
            seen.append(rng.randint(1, len(PAGES)))
            actions.append((1, row["idvisit"], seen[-1], _stamp(moment), seconds))
            moment += timedelta(seconds=seconds)
        row["visit_entry_idaction_url"], row["visit_exit_idaction_url"] = seen[0], seen[-1]

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
        drawn = f"{rng.getrandbits(64):016x}"
        browser = rng.choice(list(BROWSER_CODES))
        system = rng.choice(list(SYSTEM_CODES))
        row = _visit(detail, idvisit, account_visitor_id(customer) if customer else drawn,
                     customer, ip, start, spent, browser, system,
                     customer.city if customer else detail.choice(CITIES))
        rows.append(row)
        pages_of(row, start, spent)
    lyon = next(city for city in CITIES if city[0] == "Lyon")
    for offset, (visitor, ip, start) in enumerate(_visitor_rows(detail)):
        spent = [detail.randint(10, 180) for _ in range(detail.randint(1, 5))]
        row = _visit(detail, visits + 1 + offset, visitor, None, ip, start, spent,
                     "Firefox", "Windows", lyon)
        rows.append(row)
        pages_of(row, start, spent)
    _count_visits(rows)
    db.executemany(f"INSERT INTO log_visit ({', '.join(VISIT_COLUMNS)}) "  # noqa: S608
                   f"VALUES ({', '.join('?' * len(VISIT_COLUMNS))})",
                   [tuple(row[c] for c in VISIT_COLUMNS) for row in rows])
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
