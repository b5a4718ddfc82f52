"""Domain policies as an admin sets them: the `ambtenaar domain` commands and the moderators' page."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import factories
from tests.helpers.database import fetch, scalar
from tests.helpers.nodes import Node
from tests.helpers.web import WebClient
from tests.unit.test_domain_blocks import MASTODON_EXPORT

NOTHING_WRITTEN = ("SELECT (SELECT count(*) FROM domain_policies) + (SELECT count(*) FROM domain_allows) "
                   "+ (SELECT count(*) FROM federation_mode) + (SELECT count(*) FROM audit_log)")


def ok(node: Node, *args: str) -> str:
    result = node.cli(*args)
    assert result.code == 0, result.err
    return result.out


def audit_rows(node: Node, domain: str) -> list[dict[str, Any]]:
    rows = fetch(node.database_url, "SELECT action, actor_account_id, detail FROM audit_log "
                 "WHERE subject_type = 'domain' AND subject_id = $1 ORDER BY id", domain)
    return [{**r, "detail": json.loads(r["detail"])} for r in rows]


def test_block_change_list_and_unblock_are_audited(node: Node) -> None:
    out = ok(node, "domain", "block", "Spam.Example", "--severity", "suspend", "--reason", "spam golf",
             "--public-comment", "Spam")
    assert out.startswith("spam.example: suspend")
    listed = json.loads(ok(node, "domain", "list", "--json"))
    assert listed["mode"] == "blocklist" and listed["allowlist"] == []
    policy = next(p for p in listed["policies"] if p["domain"] == "spam.example")
    assert policy["severity"] == "suspend" and policy["reason"] == "spam golf" and policy["public_comment"] == "Spam"

    ok(node, "domain", "block", "spam.example", "--severity", "silence")
    assert "policy\tspam.example\tsilence\t-\t-" in ok(node, "domain", "list")
    ok(node, "domain", "unblock", "spam.example")
    assert "spam.example" not in ok(node, "domain", "list")

    rows = audit_rows(node, "spam.example")
    assert [r["action"] for r in rows] == ["domain.blocked", "domain.updated", "domain.unblocked"]
    assert all(r["actor_account_id"] is None for r in rows)  # an operator at the command line
    assert rows[0]["detail"]["private_comment"] == "spam golf"
    assert rows[1]["detail"]["previous"]["severity"] == "suspend"


def test_reject_media_and_json_list(node: Node) -> None:
    ok(node, "domain", "block", "pics.example", "--severity", "reject-media", "--reject-reports")
    policy = next(p for p in json.loads(ok(node, "domain", "list", "--json"))["policies"]
                  if p["domain"] == "pics.example")
    assert (policy["severity"], policy["mastodon_severity"], policy["reject_media"], policy["reject_reports"]) == (
        "reject-media", "noop", True, True)
    ok(node, "domain", "unblock", "pics.example")


def test_allowlist_and_mode(node: Node) -> None:
    assert "now on the allowlist" in ok(node, "domain", "allow", "partner.example")
    assert "already on the allowlist" in ok(node, "domain", "allow", "https://partner.example/")
    assert "1 listed domains" in ok(node, "domain", "mode", "allowlist")
    listed = json.loads(ok(node, "domain", "list", "--json"))
    assert listed["mode"] == "allowlist" and listed["allowlist"] == ["partner.example"]
    ok(node, "domain", "mode", "blocklist")
    ok(node, "domain", "disallow", "partner.example")
    assert json.loads(ok(node, "domain", "list", "--json"))["allowlist"] == []
    actions = [r["action"] for r in fetch(node.database_url, "SELECT action FROM audit_log WHERE action LIKE "
                                                              "'domain.%' AND subject_id IN ('partner.example', '*') "
                                                              "ORDER BY id")]
    assert actions == ["domain.allowed", "domain.mode", "domain.mode", "domain.disallowed"]


def test_mastodon_csv_import_and_export_round_trip(node: Node, tmp_path: Path) -> None:
    source = tmp_path / "domain_blocks.csv"
    source.write_text(MASTODON_EXPORT)
    assert "Imported 3 domain policies" in ok(node, "domain", "import", str(source))
    rows = {r["domain"]: r for r in fetch(node.database_url, "SELECT domain, severity, reject_media, "
                                          "reject_reports, obfuscate, private_comment FROM domain_policies")}
    assert rows["pics.example"]["severity"] == "noop" and rows["pics.example"]["reject_media"]
    assert rows["spam.example"]["private_comment"] == "Imported from domain_blocks.csv"
    assert audit_rows(node, "loud.example")[-1]["detail"]["source"] == "domain_blocks.csv"

    exported = ok(node, "domain", "export").splitlines()
    expected = MASTODON_EXPORT.splitlines()
    assert exported[0] == expected[0] and sorted(exported[1:]) == sorted(expected[1:])  # ordered by domain
    target = tmp_path / "out.csv"
    assert "Wrote 3 domain policies" in ok(node, "domain", "export", str(target))
    assert target.read_text().splitlines() == exported

    # Importing again changes nothing: a shared list never overrides a decision made here.
    ok(node, "domain", "block", "loud.example", "--severity", "suspend")
    assert "3 already had a policy" in ok(node, "domain", "import", str(target))
    assert scalar(node.database_url, "SELECT severity FROM domain_policies WHERE domain = 'loud.example'") == "suspend"
    for domain in ("spam.example", "loud.example", "pics.example"):
        ok(node, "domain", "unblock", domain)


def test_plain_list_import(node: Node, tmp_path: Path) -> None:
    source = tmp_path / "list.txt"
    source.write_text("# a shared list\nfirst.example\nsecond.example\n")
    ok(node, "domain", "import", str(source), "--severity", "silence")
    assert {r["domain"]: r["severity"] for r in fetch(node.database_url, "SELECT domain, severity FROM "
                                                      "domain_policies WHERE domain LIKE '%ond.example' OR domain "
                                                      "LIKE 'first.%'")} == {"first.example": "silence",
                                                                             "second.example": "silence"}
    ok(node, "domain", "unblock", "first.example")
    ok(node, "domain", "unblock", "second.example")


def _file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("args, csv_text, message", [
    (["domain", "block", "not a domain", "--severity", "suspend"], None, "is not a domain name"),
    (["domain", "block", "x.example", "--severity", "ban"], None, "invalid choice: 'ban'"),
    (["domain", "block", "x.example"], None, "required: --severity"),
    (["domain", "block", "{own}", "--severity", "suspend"], None, "is this node's own domain"),
    (["domain", "block", "127.0.0.1", "--severity", "silence"], None, "is this node's own domain"),
    (["domain", "allow", "{own}"], None, "is this node's own domain"),
    (["domain", "unblock", "never.example"], None, "never.example has no domain policy here"),
    (["domain", "disallow", "never.example"], None, "never.example is not on the allowlist"),
    (["domain", "mode", "openbar"], None, "invalid choice: 'openbar'"),
    (["domain", "import", "{file}"], "#domain,#severity\nok.example,suspend\nnot valid,suspend\n",
     "Line 3 of the file: not valid is not a domain name."),
    (["domain", "import", "{file}"], "#domain,#severity\nok.example,destroy\n", "the severity must be"),
    (["domain", "import", "{file}"], "#domain,#severity,#obfuscate\nok.example,silence,perhaps\n",
     "perhaps is not true or false"),
    (["domain", "import", "{file}"], "#domain,#severity\n{own},suspend\n", "is this node's own domain"),
    (["domain", "import", "/nonexistent/blocks.csv"], None, "No such file"),
])
def test_bad_input_is_one_line_exit_1_and_nothing_written(node: Node, tmp_path: Path, args: list[str],
                                                          csv_text: str | None, message: str) -> None:
    before = scalar(node.database_url, NOTHING_WRITTEN)
    file_name = _file(tmp_path, csv_text.replace("{own}", node.domain)) if csv_text is not None else ""
    result = node.cli(*[a.replace("{own}", node.domain).replace("{file}", file_name) for a in args])
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ambtenaar: error: "), result.err
    assert message in lines[0]
    assert scalar(node.database_url, NOTHING_WRITTEN) == before


def test_the_moderators_page_and_the_public_list(node: Node) -> None:
    assert node.cli("admin", "create", "--username", "moderatrix", "--moderator", "--password-stdin",
                    stdin="moderator-wachtwoord\n").code == 0
    factories.person(node, "gewoon")
    outsider = WebClient(node.url)
    assert outsider.login("gewoon", factories.PASSWORD).status_code == 303
    assert outsider.get("/admin/domains").status_code == 403
    assert outsider.post("/admin/domains/block", {"domain": "x.example", "severity": "suspend"}).status_code == 403

    moderator = WebClient(node.url)  # the account speaks Dutch
    assert moderator.login("moderatrix", "moderator-wachtwoord").status_code == 303
    page = moderator.get("/admin/domains")
    assert page.status_code == 200 and 'href="/admin/domains"' in page.text
    assert moderator.post("/admin/domains/block", {"domain": "spam.example", "severity": "suspend"},
                          csrf=False).status_code == 403
    done = moderator.post("/admin/domains/block", {"domain": "Spam.Example", "severity": "silence",
                                                   "reason": "geheime reden", "public_comment": "Spam",
                                                   "reject_reports": "on"})
    assert done.status_code == 303
    assert "Het beleid voor spam.example is van kracht." in moderator.get(done.headers["location"]).text
    assert 'name="reject_media"' in moderator.get("/admin/domains").text
    media = moderator.post("/admin/domains/block", {"domain": "pics.example", "severity": "silence",
                                                    "reject_media": "on"})
    assert media.status_code == 303
    assert scalar(node.database_url, "SELECT reject_media FROM domain_policies WHERE domain = 'pics.example'")
    assert node.cli("domain", "unblock", "pics.example").code == 0
    moderator_id = scalar(node.database_url, "SELECT id FROM accounts WHERE username = 'moderatrix'")
    assert audit_rows(node, "spam.example")[-1]["actor_account_id"] == moderator_id
    refused = moderator.post("/admin/domains/block", {"domain": node.domain, "severity": "suspend"})
    assert refused.status_code == 422 and "is het eigen domein van deze server" in refused.text

    # Everyone sees the public comment (never the reason) on the public list and in Mastodon's API.
    public = httpx.get(f"{node.url}/about/domains").text
    assert "spam.example" in public and "Spam" in public and "geheime reden" not in public
    assert httpx.get(f"{node.url}/api/v1/instance/domain_blocks").json() == [{
        "domain": "spam.example", "digest": hashlib.sha256(b"spam.example").hexdigest(), "severity": "silence",
        "comment": "Spam"}]

    export = moderator.get("/admin/domains/export")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    assert export.text.splitlines()[1] == "spam.example,silence,false,true,Spam,false"
    imported = moderator.http.post("/admin/domains/import", data={"csrf_token": moderator.csrf_token()},
                                   files={"file": ("blocks.csv", MASTODON_EXPORT.encode(), "text/csv")})
    assert imported.status_code == 303 and "count=2" in imported.headers["location"]
    bad = moderator.http.post("/admin/domains/import", data={"csrf_token": moderator.csrf_token()},
                              files={"file": ("bad.csv", b"#domain,#severity\nnot valid,suspend\n", "text/csv")})
    assert bad.status_code == 422 and "Regel 2 van het bestand" in bad.text

    assert moderator.post("/admin/domains/allow", {"domain": "partner.example"}).status_code == 303
    assert moderator.post("/admin/domains/mode", {"mode": "allowlist"}).status_code == 303
    assert json.loads(ok(node, "domain", "list", "--json"))["mode"] == "allowlist"
    assert moderator.post("/admin/domains/mode", {"mode": "blocklist"}).status_code == 303
    assert moderator.post("/admin/domains/disallow", {"domain": "partner.example"}).status_code == 303
    for domain in ("spam.example", "loud.example", "pics.example"):
        assert moderator.post("/admin/domains/unblock", {"domain": domain}).status_code == 303
    assert scalar(node.database_url, "SELECT count(*) FROM domain_policies") == 0
    assert "Beleid verwijderd" in moderator.get("/admin/domains").text
