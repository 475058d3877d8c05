import datetime as dt
from decimal import Decimal

import pytest

from deals.imports import parsing as p


def test_utf8_with_and_without_bom_decode_to_the_same_text():
    text = "Deal Name,Organization\r\nCafé rollout,Zürich AG\r\n"
    assert p.decode_csv_bytes(b"\xef\xbb\xbf" + text.encode()) == text
    assert p.decode_csv_bytes(text.encode()) == text


def test_windows_1252_and_latin1_files_are_read_and_named():
    text = "Deal Name,Organization\nCafé – 5 €,Zürich\n"
    assert p.decode_csv_bytes_with_encoding(text.encode("cp1252")) == (text, "cp1252")
    # 0x81 is undefined in cp1252: such a file is Latin-1.
    assert p.decode_csv_bytes_with_encoding(b"a,b\n\x81,\xe9\n")[1] == "latin-1"


def test_utf16_file_is_refused():
    with pytest.raises(p.ImportFileError, match="UTF-16"):
        p.decode_csv_bytes("a,b\n1,2\n".encode("utf-16"))


def test_file_over_the_size_limit_is_refused(settings):
    settings.IMPORT_MAX_BYTES = 100
    with pytest.raises(p.ImportFileError, match="largest file you can import is 100 bytes"):
        p.decode_csv_bytes(b"a,b\n" + b"x,y\n" * 50)


def test_empty_file_is_refused():
    with pytest.raises(p.ImportFileError, match="empty"):
        p.decode_csv_bytes(b"  \n")


@pytest.mark.parametrize(
    ("header", "expected"),
    [("a;b;c", ";"), ("a,b,c", ","), ('"Name; full",b,c', ","), ("a\tb", "\t"), ("single", ",")],
)
def test_delimiter_is_sniffed_from_the_header(header, expected):
    assert p.sniff_delimiter(header + "\n1,2,3\n") == expected


def test_common_crm_headers_are_recognised_for_deals():
    headers = [
        "Deal Name",
        "Organization",
        "Value",
        "Stage",
        "Deal owner",
        "Expected close date",
        "Email",
        "Phone",
        "Whatever",
    ]
    mapping = p.guess_mapping("deals", headers)
    assert mapping == {
        "Deal Name": "title",
        "Organization": "prospect",
        "Value": "amount",
        "Stage": "stage",
        "Deal owner": "owner",
        "Expected close date": "expected_close_date",
        "Email": "contact_email",
        "Phone": "contact_phone",
        "Whatever": "",
    }


def test_alternative_headers_title_company_amount_owner():
    mapping = p.guess_mapping("deals", ["Title", "Company", "Amount", "Owner"])
    assert mapping == {
        "Title": "title",
        "Company": "prospect",
        "Amount": "amount",
        "Owner": "owner",
    }


def test_external_id_column_wins_over_plain_id():
    mapping = p.guess_mapping("deals", ["ID", "External ID", "Title", "Organization"])
    assert mapping["External ID"] == "external_id"
    assert mapping["ID"] == ""


def test_missing_required_column_names_it_and_lists_the_file_columns():
    headers = ["Deal Name", "Value"]
    with pytest.raises(p.ImportFileError) as exc:
        p.check_mapping("deals", headers, p.guess_mapping("deals", headers))
    assert exc.value.field == "mapping"
    assert "no column for Organization" in exc.value.message
    assert "Deal Name, Value" in exc.value.message


def test_two_columns_mapped_to_one_field_is_refused():
    with pytest.raises(p.ImportFileError, match="both mapped to Deal name"):
        p.check_mapping("deals", ["A", "B", "C"], {"A": "title", "B": "title", "C": "prospect"})


def test_repeated_and_blank_headers_get_unique_names():
    assert p.read_header("Email,,Email\n", ",") == ["Email", "Column 2", "Email (2)"]


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        ("2026-12-31", "iso", dt.date(2026, 12, 31)),
        ("2026-12-31", "dmy", dt.date(2026, 12, 31)),
        ("2026-12-31T10:00:00Z", "iso", dt.date(2026, 12, 31)),
        ("31/12/2026", "dmy", dt.date(2026, 12, 31)),
        ("31.12.2026", "dmy", dt.date(2026, 12, 31)),
        ("12/31/2026", "mdy", dt.date(2026, 12, 31)),
        ("01/02/2026", "dmy", dt.date(2026, 2, 1)),
        ("01/02/2026", "mdy", dt.date(2026, 1, 2)),
    ],
)
def test_dates_in_iso_day_first_and_month_first(value, fmt, expected):
    assert p.parse_date(value, fmt) == expected


def test_day_first_date_with_iso_chosen_says_which_format_to_pick():
    with pytest.raises(p.CellError, match="looks day first"):
        p.parse_date("31/12/2026", "iso")


def test_month_first_date_read_as_day_first_is_not_a_real_date():
    with pytest.raises(p.CellError, match="not a real date"):
        p.parse_date("12/31/2026", "dmy")


@pytest.mark.parametrize("value", ["tomorrow", "2026-02-30", "31/12/0026"])
def test_unusable_dates_are_refused(value):
    with pytest.raises(p.CellError):
        p.parse_date(value, "dmy")


@pytest.mark.parametrize(
    ("value", "delimiter", "expected"),
    [
        ("12000", ",", "12000.00"),
        ("12,000.50", ",", "12000.50"),
        ("$ 12,000.50", ",", "12000.50"),
        ("12.000,50", ";", "12000.50"),
        ("1234,5", ";", "1234.50"),
        ("€ 1 234,50", ";", "1234.50"),
        ("USD 99", ",", "99.00"),
        ("1.5", ",", "1.50"),
    ],
)
def test_money_in_the_usual_notations(value, delimiter, expected):
    assert p.parse_money(value, delimiter=delimiter) == Decimal(expected)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("abc", "not a number"),
        ("-500", "negative"),
        ("1e400", "not a number"),
        ("NaN", "not a number"),
        ("99999999999999999", "larger than the biggest amount"),
        ("=1+1", "formula"),
    ],
)
def test_absurd_numbers_are_refused_with_a_reason(value, reason):
    with pytest.raises(p.CellError, match=reason):
        p.parse_money(value)


@pytest.mark.parametrize("value", ["=cmd|' /C calc'!A0", "+SUM(A1:A2)", "-2+3", "@SUM(1)"])
def test_formula_cells_are_refused(value):
    with pytest.raises(p.CellError, match="formula"):
        p.clean_text(value)


def test_escaped_formula_cell_from_our_export_reads_back_as_text():
    assert p.clean_text("'=not a formula") == "=not a formula"
    assert p.clean_text("'-50% deal") == "-50% deal"


def test_phone_numbers_may_start_with_plus():
    assert p.clean_text("+1 (555) 010-0100", kind="phone") == "+1 (555) 010-0100"
    with pytest.raises(p.CellError):
        p.clean_text("+HYPERLINK(x)", kind="phone")


def test_dash_placeholder_reads_as_empty():
    assert p.clean_text("-") == ""


def test_too_long_text_is_refused():
    with pytest.raises(p.CellError, match="the most we keep is 5"):
        p.clean_text("abcdefg", max_length=5)


def test_stage_names_of_other_crms_map_and_the_users_table_wins():
    assert p.map_stage("Proposal Made", {}) == "proposal"
    assert p.map_stage("Closed Won", {}) == "closed_won"
    assert p.map_stage("negotiation", {}) == "negotiation"
    assert p.map_stage("Demo Scheduled", {"Demo scheduled": "proposal"}) == "proposal"
    with pytest.raises(p.CellError, match="not one of our stages"):
        p.map_stage("Pending legal", {})


# --- Values that real exports hold ---------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["- first point\n- second point", "- ", "-- see notes", "+ plus side", "-5", "+12"],
)
def test_bullet_lists_and_signed_numbers_are_text_not_formulas(value):
    assert p.clean_text(value) == value.strip() or p.clean_text(value) == ""


@pytest.mark.parametrize(
    "value", ["=SUM(A1:A2)", "@SUM(1)", "+cmd|' /C calc'!A0", "-2+3", "\t=1+1"]
)
def test_what_a_spreadsheet_executes_is_still_refused_with_a_clear_message(value):
    with pytest.raises(p.CellError) as exc:
        p.clean_text(value)
    assert "reads as a spreadsheet formula" in str(exc.value)
    assert "single quote" in str(exc.value)


@pytest.mark.parametrize(
    ("value", "band"),
    [
        ("12", "small"),
        ("50", "small"),
        ("250", "medium"),
        ("1,200", "large"),
        ("1.200", "large"),
        ("5000", "enterprise"),  # "5000" is also the "5000+" band label
        ("12000", "enterprise"),
        ("51-200", "medium"),
        ("1,001-5,000", "large"),
        ("10,001+", "enterprise"),
        ("85 employees", "medium"),
    ],
)
def test_employee_counts_and_ranges_map_into_size_bands(value, band):
    assert p.parse_choice("size", value) == band


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("EUR", "EUR"),
        ("eur", "EUR"),
        ("€", "EUR"),
        ("£", "GBP"),
        ("$", "USD"),
        ("978", "EUR"),
        ("base.EUR", "EUR"),
        ("EUR - Euro", "EUR"),
        ("Swiss Franc", "CHF"),
    ],
)
def test_currency_ids_and_symbols_resolve(value, code):
    assert p.parse_currency(value, default="CHF") == code


def test_a_profiles_own_currency_id_may_mean_the_teams_currency():
    assert p.parse_currency("-99", default="SEK", extra={"-99": "default"}) == "SEK"
    with pytest.raises(p.CellError, match="not a currency"):
        p.parse_currency("dollars and cents", default="SEK")


def test_dates_with_times_zones_and_month_names(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    from django.utils import timezone

    with timezone.override("Europe/Berlin"):
        # 23:30 in California on the 5th is already the 6th in Berlin.
        assert p.parse_date("2026-03-05T23:30:00-08:00", "iso") == dt.date(2026, 3, 6)
        assert p.parse_date("2026-03-05 14:30:00.123456+00:00", "iso") == dt.date(2026, 3, 5)
    assert p.parse_date("Mar 5, 2026", "iso") == dt.date(2026, 3, 5)
    assert p.parse_date("5 March 2026", "iso") == dt.date(2026, 3, 5)
    assert p.parse_date("05-Mar-2026", "iso") == dt.date(2026, 3, 5)
    assert p.parse_date("3/5/2026 10:12 AM", "mdy") == dt.date(2026, 3, 5)
    moment = p.parse_datetime("2026-03-14 10:42:11", "iso")
    assert (moment.hour, moment.minute, moment.tzinfo) == (10, 42, None)


def test_report_title_and_footer_lines_are_cut_and_plain_files_left_alone():
    table = "A,B,C\r\n1,2,3\r\n4,5,6\r\n"
    assert p.strip_report_frame(table, ",") == (table, 0, 0)
    framed = (
        '"Pipeline report"\r\n' + table + '""\r\n"Copyright (c) 2000-2026 salesforce.com, inc."\r\n'
        '"Confidential Information - Do Not Distribute"\r\n"Acme, Inc."\r\n'
    )
    text, top, bottom = p.strip_report_frame(framed, ",")
    assert (top, bottom) == (1, 3)
    assert list(p.iter_records(text, ",")) == [(2, ["1", "2", "3"]), (3, ["4", "5", "6"])]
    totals = table + '"Grand Totals (2 records)",,"9"\r\n'
    assert p.strip_report_frame(totals, ",")[2] == 1
    # A deal whose title starts with "Total" is a deal, not a total row.
    real = table + "Total rewards platform,7,8\r\n"
    assert p.strip_report_frame(real, ",") == (real, 0, 0)


def test_html_notes_become_plain_text():
    assert p.html_to_text(
        "<p>Kick-off <b>agreed</b>.</p><ul><li>Two</li><li>A &amp; B</li></ul>"
    ) == ("Kick-off agreed.\n- Two\n- A & B")
    assert p.html_to_text("2 < 3 and plain") == "2 < 3 and plain"


def test_each_fixture_is_recognised_as_the_crm_that_writes_it():
    from pathlib import Path

    from deals.imports import files, profiles

    fixtures = Path(__file__).parent / "fixtures"
    expected = {
        ("pipedrive", "deals.csv"): ("deals", "pipedrive"),
        ("pipedrive", "organizations.csv"): ("prospects", "pipedrive"),
        ("pipedrive", "people.csv"): ("contacts", "pipedrive"),
        ("hubspot", "companies.csv"): ("prospects", "hubspot"),
        ("salesforce_dataloader", "Account.csv"): ("prospects", "salesforce_dataloader"),
        ("twenty", "companies.csv"): ("prospects", "twenty"),
        ("twenty", "people.csv"): ("contacts", "twenty"),
    }
    for (crm, name), (kind, code) in expected.items():
        source = files.read(name, (fixtures / crm / name).read_bytes())
        assert profiles.detect(kind, source.headers).code == code, (crm, name)
