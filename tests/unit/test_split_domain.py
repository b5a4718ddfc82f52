"""Canonical handles of remote split-domain accounts (federation/split_domain.py) and the handle-domain rules that
need no database (server/handle_domains.normalise_domain, the state transitions, the self-test's snippets)."""

from __future__ import annotations

import pytest

from federation.handle_domain_check import CheckLine, CheckResult, snippets
from federation.split_domain import Canonical, canonical_handle, fallback, is_split
from server.errors import Invalid
from server.handle_domains import TRANSITIONS, normalise_domain

ACTOR = "https://social.example.com/users/bob"


def test_a_subject_on_the_asked_domain_is_proven_and_split() -> None:
    handle = canonical_handle("bob", "example.com", "acct:bob@example.com", ACTOR)
    assert handle == Canonical("bob", "example.com") and is_split(handle, ACTOR)


def test_asking_the_actor_host_for_a_handle_on_another_domain_needs_that_domain_to_confirm() -> None:
    # social.example.com may claim any subject; only example.com may grant bob@example.com.
    handle = canonical_handle("bob", "social.example.com", "acct:bob@example.com", ACTOR)
    assert handle == Canonical("bob", "example.com", confirm=True)


def test_a_subject_on_the_actor_host_is_proven_by_that_host() -> None:
    handle = canonical_handle("bob", "example.com", "acct:bob@social.example.com", ACTOR)
    assert handle == Canonical("bob", "social.example.com") and not is_split(handle, ACTOR)


def test_no_subject_keeps_the_asked_handle_and_a_third_domain_is_not_trusted_unconfirmed() -> None:
    assert canonical_handle("Bob", "Example.com", None, ACTOR) == Canonical("Bob", "example.com")
    assert canonical_handle("bob", "example.com", "not a handle", ACTOR) == Canonical("bob", "example.com")
    assert canonical_handle("bob", "example.com", "acct:bob@evil.test", ACTOR).confirm


def test_the_fallback_is_mastodons_preferred_username_on_the_actor_host() -> None:
    assert fallback("bob", ACTOR) == Canonical("bob", "social.example.com")
    assert not is_split(fallback("bob", "https://node.test:8443/users/bob"), "https://node.test:8443/users/bob")


@pytest.mark.parametrize("value, stored", [("Ede.NL", "ede.nl"), (" ede.nl. ", "ede.nl"),
                                           ("gemeente-ede.nl", "gemeente-ede.nl"), ("bürger.de", "xn--brger-kva.de")])
def test_handle_domains_are_stored_lower_case_and_in_idna(value: str, stored: str) -> None:
    assert normalise_domain(value, "social.ede.nl") == stored


@pytest.mark.parametrize("value", ["https://ede.nl", "ede.nl/x", "anna@ede.nl", "ede.nl:8443", "localhost",
                                   "127.0.0.1", "-ede.nl", "social.ede.nl", ""])
def test_what_is_not_a_handle_domain_is_refused(value: str) -> None:
    with pytest.raises(Invalid):
        normalise_domain(value, "social.ede.nl")


def test_only_a_passing_check_activates_and_a_failure_after_activation_is_failing() -> None:
    assert TRANSITIONS[("pending", False)] == "pending" and TRANSITIONS[("pending", True)] == "active"
    assert TRANSITIONS[("active", False)] == "failing" and TRANSITIONS[("failing", True)] == "active"


def test_snippets_redirect_to_the_node_with_cors_and_results_list_failures_with_a_fix() -> None:
    found = snippets("ede.nl", "social.example.org")
    assert "return 301 https://social.example.org$request_uri" in found["nginx"]
    assert "Access-Control-Allow-Origin" in found["apache"] and "[R=301,L]" in found["apache"]
    assert 'appendQueryString="true"' in found["iis"] and 'value="*"' in found["iis"]
    result = CheckResult("ede.nl", (CheckLine("webfinger redirect", True, "301 to x"),
                                    CheckLine("webfinger CORS", False, "no header", "add it")))
    assert not result.passed and result.failures() == ["FAIL webfinger CORS: no header — change: add it"]
